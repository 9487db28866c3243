"""Whether a question asks about a product the catalog does not have, decided from the catalog alone.

Retrieval always returns the nearest real products, so "Is Lagavulin 18 Year Old in stock?" retrieves
"Lagavulin 16 Year Old" and a model happily answers about the wrong bottle. This check compares the words
of the question with the name of the product the question names (the matcher's pick) and the other
retrieved products, token by token:

- typos, casing and partial names are the same product ("lagavuln 16", "Domane Zind-Humbrecht ...");
- a different number (vintage, age) or a word no catalog name has, inside the name or right after it in
  Title Case, is another product ("Lagavulin 18 Year Old", "Lagavulin 16 Year Old Magnum Edition");
- in an all-lower-case question, an uncommon word in place of a name's last word is another product
  ("rolling fork ... straight rye lindqvist" for "... Straight Rye Whiskey");
- a Title-Case phrase that no product matches, mixing words of catalog names with words no catalog name
  has, is an invented product ("Maison Fennimore Old Vines").

`asked_unknown(question, named, products)` returns the phrase of the missing product, or None.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from functools import cached_property, lru_cache

from rapidfuzz import fuzz

from domainlm.catalog.product import Catalog, Product
from domainlm.prompt import Context
from domainlm.retrieval.text import fold
from domainlm.verify.claims import NameIndex, name_key

# A question word this similar to a name word (both 4+ letters) is that word misspelt.
TYPO_SIMILARITY = 80.0
# Share of a name's words a question must contain to be about that product at all.
MIN_NAME_SHARE = 0.5
# Title-Case words right after a name that still belong to it ("... Magnum Edition").
MAX_CONTINUATION = 3

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?|\d+")
# Words that are never part of a product name when they follow one ("Is X Available?", "X And Y").
_FUNCTION = frozenset("""a an and or but the of to in on at by for from with without vs versus than as is are was be
been it its this that these those i me my we our you your do does did can could would should will shall may might
please thanks thank what which who whom whose how why when where any some all each price prices cost costs much
many stock available availability good best better rated rating review reviews bottle bottles order buy sell have
has carry ship delivery gift taste tastes like pair pairs pairing with compare other others more less under over
about tell info information yes no ok okay there here dry sweet smoky peaty fruity oaky organic vegan kosher cheap
expensive worth worthwhile still chilled cold decant""".split())
_YEAR = re.compile(r"(?:19|20)\d\d")
_JOINERS = frozenset("de la le les du des del della di da do dos das van von der den y e & d l et".split())


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, lower-case word) for every word and number."""
    return [(m.start(), m.end(), m.group(0).lower()) for m in _TOKEN.finditer(text)]


def same_word(q: str, n: str) -> bool:
    """`q` is the name word `n`, or `n` misspelt, accents aside (numbers must match exactly):
    `same_word("réserve", "reserva")` -> True."""
    if q == n:
        return True
    if q.isdigit() or n.isdigit():
        return False
    q, n = fold(q), fold(n)  # customers and models add and drop accents on the same name
    return q == n or (len(q) >= 4 and len(n) >= 4 and fuzz.ratio(q, n) >= TYPO_SIMILARITY)


@lru_cache(maxsize=1)
def _lexicon() -> frozenset[str] | None:
    """Common English words: the whole-word entries of MiniLM's WordPiece vocabulary (about 20,000 words, shipped
    in the default embedder's package; no package at hand has a proper word list). None when it is missing."""
    from domainlm.errors import ModelError
    from domainlm.models.embedders import EMBEDDERS

    try:
        path = EMBEDDERS.get("minilm").locate() / "vocab.txt"
    except ModelError:  # the package is not installed or lacks its model files
        return None
    if not path.exists():
        return None
    return frozenset(w for w in path.read_text(encoding="utf-8").split() if w.isalpha())


# Endings of adjectives and verb forms a customer puts after a name ("tasty", "drinkable", "decanting", "tannic").
_COMMON_ENDINGS = ("y", "able", "ible", "ing", "ed", "ful", "ous", "ive", "ic", "er", "est")


def common_word(word: str) -> bool:
    """`word` (lower case) is a common English word, its plural, or has an adjective or verb ending.
    True when no lexicon is installed, so that nothing is flagged on a guess."""
    lexicon = _lexicon()
    if lexicon is None or word.endswith(_COMMON_ENDINGS):
        return True
    return any(w in lexicon for w in (word, word[:-1] if word.endswith("s") else "", word[:-2] if word.endswith("es") else ""))


def _title(word: str) -> bool:
    return word[:1].isupper()


def _sentence_start(text: str, pos: int) -> bool:
    """The word at `pos` opens a sentence, so its capital says nothing about being a name."""
    before = text[:pos].rstrip()
    return not before or before[-1] in ".?!:\"'(\n"


class UnknownProductCheck:
    """Built once per catalog snapshot; `asked_unknown` costs a few token alignments a question."""

    def __init__(self, catalog: Catalog, names: NameIndex | None = None):
        self.names = names or NameIndex(catalog)
        self.name_words: frozenset[str] = frozenset(w for key in self.names.by_name for w in key)
        self._catalog = catalog

    def _known_word(self, word: str) -> bool:
        """A word some catalog name has, exactly or misspelt."""
        if word in self.name_words:
            return True
        if word.isdigit() or len(word) < 4:
            return False
        return any(fuzz.ratio(word, w) >= TYPO_SIMILARITY for w in self.name_words if abs(len(w) - len(word)) <= 2)

    def asked_unknown(self, question: str, named: Product | None, products: list[Product],
                      ignore: Sequence[str] = ()) -> str | None:
        """The product phrase of `question` that names no catalog product, or None when it names real ones only.

        `named` is the product retrieval says the question names; `products` the retrieved ones. A phrase
        that is one of `ignore` (the brand's competitors: "Total Wine" is a shop, not a product) is not one.
        """
        words = self._drop_possessives(_tokens(question))
        if not words:
            return None
        phrase = self._asked_unknown(question, words, named, products)
        if phrase and any(set(name_key(x)) <= set(name_key(phrase)) for x in ignore if name_key(x)):
            return None
        return phrase

    def _drop_possessives(self, words):
        """"Pol Roger Brut NV's volume": the "'s" is not part of the name (unless a name has the word with it)."""
        out = []
        for start, end, word in words:
            if len(word) > 3 and word[-2:] in ("'s", "’s") and word not in self.name_words:
                end, word = end - 2, word[:-2]
            out.append((start, end, word))
        return out

    def _asked_unknown(self, question: str, words, named: Product | None, products: list[Product]) -> str | None:
        exact = self.names.mentions(question)
        # the matcher's pick is the product the question is about; without one, any retrieved product may be
        candidates = [named] if named is not None else list(products)
        for product in candidates:
            if any(m.product is not None and m.product.id == product.id for m in exact):
                phrase = self._addition(question, words, product, exact)
            else:
                phrase = self._variant(question, words, product, exact)
            if phrase:
                return phrase
        if named is None and not exact:
            return self._invented(question, words)
        return None

    # ---- a real name followed by words that are not part of it: "Lagavulin 16 Year Old Magnum Edition"
    def _addition(self, question: str, words, product: Product, exact) -> str | None:
        mention = next(m for m in exact if m.product is not None and m.product.id == product.id)
        after = [w for w in words if w[0] >= mention.end]
        tail = self._continuation(question, after, mention.end, product, {m.start for m in exact})
        if not tail:
            return None
        return question[mention.start:tail[-1][1]]

    def _continuation(self, question: str, after, name_end: int, product: Product, stops: set[int] = frozenset()
                      ) -> list[tuple[int, int, str]]:
        """Title-Case words, "No. 47"-style numbers or a year other than the product's vintage, directly after a
        name ending at `name_end`, in the same sentence, up to the start of another catalog name (`stops`)."""
        tail: list[tuple[int, int, str]] = []
        prev_end, prev_word = name_end, ""
        years = {str(a.value) for a in product.attributes if isinstance(a.value, (int, str))}
        for start, end, word in after[:MAX_CONTINUATION]:
            gap = question[prev_end:start]
            if gap.strip() and not (gap.strip() == "." and prev_word == "no"):
                break
            raw = question[start:end]
            numbered = word.isdigit() and (prev_word == "no" or (_YEAR.fullmatch(word) and word not in years))
            if start in stops or word in _FUNCTION or word in _JOINERS or not (_title(raw) or numbered):
                break
            tail.append((start, end, word))
            prev_end, prev_word = end, word
        return tail

    # ---- a real name with a word swapped or a number changed: "Lagavulin 18 Year Old"
    def _variant(self, question: str, words, product: Product, exact) -> str | None:
        name = [w for _, _, w in _tokens(product.name)]
        if len(name) < 2:
            return None
        q = [w for _, _, w in words]
        # map each question word to the name word it spells (typos included), so the alignment sees them equal
        mapped = [next((n for n in name if same_word(w, n)), w) for w in q]
        blocks = [b for b in SequenceMatcher(None, mapped, name, autojunk=False).get_matching_blocks() if b.size]
        if not blocks:
            return None
        # the run of matching blocks around the longest one, with gaps of at most two words in the question
        anchor = max(range(len(blocks)), key=lambda i: blocks[i].size)
        lo = hi = anchor
        while lo > 0 and blocks[lo].a - (blocks[lo - 1].a + blocks[lo - 1].size) <= 2 and blocks[lo - 1].b < blocks[lo].b:
            lo -= 1
        while hi < len(blocks) - 1 and blocks[hi + 1].a - (blocks[hi].a + blocks[hi].size) <= 2 \
                and blocks[hi + 1].b > blocks[hi].b:
            hi += 1
        run = blocks[lo:hi + 1]
        matched = sum(b.size for b in run)
        if matched < 2 or matched / len(name) < MIN_NAME_SHARE:
            return None
        q0, q1 = run[0].a, run[-1].a + run[-1].size  # [q0, q1) question words of the name
        if any(m.start < words[q1 - 1][1] and words[q0][0] < m.end for m in exact):
            return None  # those words name another catalog product exactly
        inside = [i for i in range(q0, q1) if not any(b.a <= i < b.a + b.size for b in run)]
        strange = [i for i in inside if q[i] not in _JOINERS and q[i] not in _FUNCTION
                   and (q[i].isdigit() or not any(same_word(q[i], n) for n in name))]
        # a name word left out at an end of the run, with a Title-Case word in its place
        missing_end = run[-1].b + run[-1].size < len(name)
        missing_start = run[0].b > 0
        tail = self._continuation(question, words[q1:], words[q1 - 1][1], product, {m.start for m in exact}) if missing_end else []
        if not tail and run[-1].b + run[-1].size == len(name) - 1:
            tail = self._swapped_last_word(question, words, q1)
        head: list[tuple[int, int, str]] = []
        i = q0 - 1
        while missing_start and i >= 0 and len(head) < MAX_CONTINUATION:
            s, e, w = words[i]
            gap = question[e:(head[0] if head else words[q0])[0]]
            if gap.strip() or not _title(question[s:e]) or _sentence_start(question, s) or w in _FUNCTION \
                    or w in _JOINERS or any(same_word(w, n) for n in name):
                break
            head.insert(0, words[i])
            i -= 1
        # a different number where the name has one ("2015" for "2018", "18" for "16") is another product
        numbers = {n for n in name if n.isdigit()}
        changed_number = any(q[i].isdigit() and numbers and q[i] not in numbers for i in inside)
        if not (strange or tail or head or changed_number):
            return None
        if (strange or tail or head) and not changed_number:
            extra = [q[i] for i in strange] + [w for _, _, w in tail + head]
            if all(self._known_word(w) for w in extra):
                return None  # words of other catalog names: a comparison or a category, not an invented bottle
        start = (head or [words[q0]])[0][0]
        end = (tail[-1] if tail else words[q1 - 1])[1]
        return question[start:end]

    def _swapped_last_word(self, question: str, words, q1: int) -> list[tuple[int, int, str]]:
        """In an all-lower-case question, where casing says nothing, the word in place of a name's missing last
        word when it is no catalog word and no common word: "... straight rye lindqvist" for "... Straight Rye
        Whiskey". A common word there ("... straight rye tasty?") is the user's, not the name's."""
        if q1 >= len(words) or any(c.isupper() for c in question):
            return []
        start, end, word = words[q1]
        if question[words[q1 - 1][1]:start].strip() or not word.isalpha() or len(word) < 4 \
                or word in _FUNCTION or word in _JOINERS or self._known_word(word) or self._common(word):
            return []
        return [words[q1]]

    @cached_property
    def _text_words(self) -> frozenset[str]:
        """Words of the catalog's descriptions, categories and spec values (built on first use)."""
        return frozenset(w for p in self._catalog for text in (
            p.description or "", p.category or "", *(str(a.value) for a in p.attributes))
            for _, _, w in _tokens(text))

    def _common(self, word: str) -> bool:
        """A word of the catalog's own descriptions and specs, a common English word, or one with an adjective or
        verb ending ("tannic", "pricey", "drinkable"). True for every word when no lexicon is installed."""
        return word in self._text_words or common_word(word)

    # ---- no product matched at all: "Do you sell Maison Fennimore Old Vines?"
    def _invented(self, question: str, words) -> str | None:
        runs: list[list[tuple[int, int, str]]] = []
        current: list[tuple[int, int, str]] = []
        for start, end, word in words:
            raw = question[start:end]
            if _title(raw) and word not in _FUNCTION and not _sentence_start(question, start):
                current.append((start, end, word))
            elif current and word in _JOINERS:
                current.append((start, end, word))
            else:
                if current:
                    runs.append(current)
                current = []
        if current:
            runs.append(current)
        for run in runs:
            while run and run[-1][2] in _JOINERS:
                run.pop()
            content = [w for _, _, w in run if w not in _JOINERS]
            if len(content) < 2:
                continue
            known = [w for w in content if self._known_word(w)]
            if known and len(known) < len(content):
                return question[run[0][0]:run[-1][1]]
        return None


def context_with_missing(result, question: str, check, ignore: Sequence[str] = ()) -> Context:
    """A retrieval result's context with `missing` set: the one way the data builder (`data.context`) and
    serving (`Assistant.retrieve`) build it, so a training sample shows what serving sends. `check` is an
    `UnknownProductCheck` or a `Verifier` (which holds one)."""
    context = result.context()
    context.missing = check.asked_unknown(question, getattr(result, "named", None), context.products, ignore)
    return context
