"""Errors that reach the user: each one says what is wrong, where, and what to do."""


class DomainlmError(Exception):
    """A user-facing error; the CLI prints its message without a traceback and exits 2."""


class ConfigError(DomainlmError):
    """The project file or a command-line override is wrong."""


class CatalogError(DomainlmError):
    """The catalog cannot be read or fails validation.

    `problems` holds every problem found in one pass (row number, id, field, message).
    """

    def __init__(self, message: str, problems: list | None = None):
        super().__init__(message)
        self.problems = problems or []


class KnowledgeError(DomainlmError):
    """A knowledge document cannot be read."""


class ModelError(DomainlmError):
    """A base model or embedder cannot be found or loaded."""
