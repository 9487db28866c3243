"""The export error: what cannot be exported and why, named for the user."""

from domainlm.errors import DomainlmError


class ExportError(DomainlmError):
    """A run cannot be exported: missing base model, unsupported architecture, corrupt adapter, ..."""
