"""What retrieval reads of a product: the text embedded and the fields BM25 indexes."""

from __future__ import annotations

import re
import unicodedata

from domainlm.catalog.product import Product
from domainlm.knowledge import KnowledgeSection

# Descriptions longer than this are cut before embedding: MiniLM reads 256 word pieces at most and
# the name, category and fields matter more than the tail of a tasting note.
EMBED_DESCRIPTION_CHARS = 300


def product_text(product: Product) -> str:
    """Name, category, quotable fields and the start of the description, as one line.

    Price and stock are left out on purpose: they change often and must not force a re-embed
    (this is what `Product.text_hash` covers).
    """
    parts = [product.name]
    if product.category:
        parts.append(product.category)
    for attr in product.attributes:
        if isinstance(attr.value, str):
            parts.append(attr.value)
        else:
            parts.append(f"{attr.label} {attr.render()}")
    if product.description:
        parts.append(product.description[:EMBED_DESCRIPTION_CHARS])
    return " | ".join(parts)


def product_lexical_text(product: Product) -> str:
    """The BM25 document: name (twice, so name words weigh more), id, category and mapped fields."""
    parts = [product.name, product.name, product.id, product.category or ""]
    parts.extend(str(a.value) for a in product.attributes)
    if product.description:
        parts.append(product.description)
    return fold(" ".join(parts))


def passage_text(section: KnowledgeSection) -> str:
    return f"{section.title}: {section.text}"


def fold(text: str) -> str:
    """Lower case without accents: `Château Rosé` -> `chateau rose` (so typed queries match)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


_NON_WORD = re.compile(r"[^\w]+")


def normalize_name(text: str) -> str:
    """Folded, punctuation to spaces, single-spaced: `Moët & Chandon` -> `moet chandon`."""
    folded = fold(text).replace("'", "").replace("\u2019", "")
    return " ".join(_NON_WORD.sub(" ", folded).replace("_", " ").split())
