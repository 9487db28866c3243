"""Retrieval errors: each names the index or server and the command that fixes it."""

from __future__ import annotations

from domainlm.errors import DomainlmError


class IndexError_(DomainlmError):
    """Base class for index problems (named with a trailing underscore to not shadow the builtin)."""


class IndexMissingError(IndexError_):
    """No index has been built for this project yet."""


class IndexStaleError(IndexError_):
    """The index was built from another catalog version than the one loaded now."""


class IndexCorruptError(IndexError_):
    """An index file is missing, truncated or does not match the manifest."""


class StoreError(DomainlmError):
    """A vector store cannot be reached or used."""
