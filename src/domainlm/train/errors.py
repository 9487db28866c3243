"""Errors raised by training: bad datasets and refused runs, each naming the file, line or run involved."""

from domainlm.errors import DomainlmError


class DatasetError(DomainlmError):
    """A training or preference dataset cannot be read; the message names the file and line."""


class TrainError(DomainlmError):
    """A training run cannot start or continue (missing data, base mismatch on resume, QLoRA on CPU...)."""
