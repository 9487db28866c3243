"""domainlm: turn a business's catalog, documents and voice into its own grounded assistant."""

__version__ = "0.1.0"
