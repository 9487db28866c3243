"""Retrieval: hybrid lexical + dense search over the catalog and knowledge, with exact filters.

    from domainlm.retrieval import Retriever, build_index, update_index
    build_index(project, catalog, sections)            # index/ under the project folder
    r = Retriever.open(project)                        # or Retriever.in_memory(catalog, sections)
    res = r.search("a dry red under $20 from Spain")   # res.products, res.passages, res.context()
"""

from domainlm.retrieval.errors import IndexCorruptError, IndexMissingError, IndexStaleError, StoreError
from domainlm.retrieval.filters import Filters
from domainlm.retrieval.index import IndexInfo, build_index, load_state, update_index
from domainlm.retrieval.retriever import RetrievalResult, Retriever
from domainlm.retrieval.state import UpdateStats
from domainlm.retrieval.stores import STORES, VectorStore
from domainlm.retrieval.understand import QueryUnderstander

__all__ = [
    "Filters", "IndexCorruptError", "IndexInfo", "IndexMissingError", "IndexStaleError", "QueryUnderstander",
    "RetrievalResult", "Retriever", "STORES", "StoreError", "UpdateStats", "VectorStore", "build_index",
    "load_state", "update_index",
]
