"""Vector stores behind one interface, registered by name (`retrieval.store` in the project file)."""

from domainlm.retrieval.stores.base import STORES, VectorStore
from domainlm.retrieval.stores import embedded as _embedded  # noqa: F401  (registers "embedded")
from domainlm.retrieval.stores import milvus as _milvus  # noqa: F401  (registers "milvus")

__all__ = ["STORES", "VectorStore"]
