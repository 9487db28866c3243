"""Sample generators, one registered class per kind (`GENERATORS.get("product_qa")`)."""

from domainlm.data.generators.base import GENERATORS, GenEnv, Generator
from domainlm.data.generators import knowledge, product, safety  # noqa: F401  (registers the generators)

__all__ = ["GENERATORS", "GenEnv", "Generator"]
