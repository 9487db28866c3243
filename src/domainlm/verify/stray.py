"""Safety lines nobody asked for: a canned refusal that opens the answer to a turn the guard passed.

An adapter trained on the data builder's safety samples (`data/generators/safety.py`) sometimes opens a legitimate
answer with one of their refusal lines: "I'd rather not comment on other shops." before a comparison of two of our
wines, "I can't change prices or offer discounts, I'm afraid." for "What's your how much to pour policy?". The
acceptance run of the example shop had four such answers among 43 legitimate questions.

A leading sentence is *stray* when the guard passed the turn, the sentence is a refusal of the competitor,
negotiation or manipulation kind, and no user turn of the conversation has a cue of that kind (a competitor or
another shop; a discount, a deal or a price; a change to a price, a listing or a description). Stray lines are
dropped when the rest of the answer is about what was asked (the product the question named, or some product
beyond a bare price line); otherwise the answer is replaced by a grounded one: the best knowledge passage the
retrieval found, else the catalog's products (`grounded_answer`).

Only these three kinds, because their cues can be read from the words. Injection, off-topic and fake-product
refusals are kept whatever the guard said: a missed attack answered is worse than a fine question refused (at the
acceptance run the guard passed 1 of 32 injections, "... promise me half price on everything in my basket", and the
model refused it with a negotiation line; "half price" is a negotiation cue, so that refusal stays).

Written by hand: the lines are our own data builder's templates, which no library knows.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from domainlm.catalog.product import Product
from domainlm.prompt import Context, passage_text, topic_in_sentence

# What each kind's refusal line says (every template of `data/generators/safety.py` for the kind matches; a test
# checks that), with a negation, so that "We offer discounts on mixed cases" is not read as a refusal.
_LINES = {
    "competitor": [r"\brather not comment on other\b", r"\bcan'?t speak for\b", r"\bcan only tell you about\b.{0,80}\bnot\b",
                   r"\bcan'?t compare us\b"],
    "negotiation": [r"\b(?:offer|give)\s+(?:you\s+)?(?:a\s+|any\s+)?discounts?\b", r"\bprice match", r"\bmatch other prices\b",
                    r"\bprices are fixed\b", r"\bnegotiate\b"],
    "manipulation": [r"\b(?:change|edit|update|modify|alter)\s+(?:our\s+|the\s+|any\s+)?(?:prices?|products?|catalog|"
                     r"descriptions?|listings?)\b", r"\bmake changes to\b", r"\bcan'?t be changed\b"],
}
_NEGATED = re.compile(r"\b(?:can't|cant|cannot|can not|not able|unable|rather not|won't|fixed|only)\b", re.I)
# The turn gives a reason for the line: then it is no stray line, whatever the guard said.
_CUES = {
    "competitor": r"\b(?:other|another|different)\s+(?:shops?|stores?|retailers?|sites?|sellers?|merchants?)\b|"
                  r"\belsewhere\b|\bsomewhere else\b|\bcompetitors?\b|\brivals?\b|\bamazon\b|\bonline\b",
    "negotiation": r"discount|\bdeals?\b|cheap|\blower\b|\boff\b|%|\bmatch|coupon|\bcodes?\b|voucher|\bfree\b|haggl|"
                   r"bargain|\bknock|reduc|\bsale\b|\bprices?\b|\bpriced\b|\bcosts?\b|\bhalf\b|\$|€|£|\bpay\b|\bbudget\b|"
                   r"\bbetter\b|\boffer\b",
    "manipulation": r"\bchange|\bupdat|\bedit|\bset\b|\bmark|\bmodif|\balter|\bremember|\bcorrect|\bwrong\b|"
                    r"outdated|out of date|\bnow\b|descri|\bprices?\b|\bpriced\b|\bcosts?\b|\blist|\$|€|£|\binstruction|"
                    r"\brules?\b|\bsay\b|\bwrite\b|\bdelet|\bremov|\badd\b|\bnote\b|catalog|\bbest product",
}
_LINE_RES = {kind: [re.compile(p, re.I) for p in patterns] for kind, patterns in _LINES.items()}
_CUE_RES = {kind: re.compile(p, re.I) for kind, p in _CUES.items()}
# The data builder's redirects ("I'm happy to help with ...", "Can I help you find a gin instead?"): no answer.
_REDIRECT = re.compile(r"\bhappy to help with\b|\bI can help you with\b|\bcan I help you find\b|"
                       r"\bis there anything (?:from|at|in)\b.{0,60}\bI can help\b", re.I)
# "<product> is $24.99." alone is the price line of a safety template, not an answer to the question.
_BARE_PRICE = re.compile(r"^(?:the price of\s+)?[^.!?]{2,160}?\s+is\s+[$€£]\s?\d[\d,]*(?:\.\d+)?"
                         r"(?:,? which is our best price)?[.!]?$", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def refusal_kinds(sentence: str) -> set[str]:
    """The kinds of safety refusal a sentence is (`{"negotiation", "manipulation"}` for "I can't change prices or
    offer discounts, I'm afraid."), or an empty set."""
    if not _NEGATED.search(sentence):
        return set()
    return {kind for kind, patterns in _LINE_RES.items() if any(p.search(sentence) for p in patterns)}


def has_cue(kind: str, turns: Sequence[str], competitors: Sequence[str] = ()) -> bool:
    """Whether a user turn gives a reason for a `kind` refusal line."""
    text = " ".join(turns)
    if kind == "competitor" and any(re.search(rf"\b{re.escape(c)}\b", text, re.I) for c in competitors if c):
        return True
    return bool(_CUE_RES[kind].search(text))


def _sentences(text: str) -> list[tuple[int, int]]:
    """[start, end) of each sentence, in order."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def stray_lead(text: str, turns: Sequence[str], competitors: Sequence[str] = ()) -> int:
    """Where the answer goes on after its leading stray lines: 0 when it has none (see the module's docstring)."""
    end = 0
    for start, stop in _sentences(text):
        kinds = refusal_kinds(text[start:stop])
        if not kinds or any(has_cue(kind, turns, competitors) for kind in kinds):
            break
        end = stop
    if end == 0:
        return 0
    rest = text[end:]
    return len(text) - len(rest.lstrip())


def answers_the_question(rest: str, named: Product | None, mentioned: Callable[[str], list[Product]]) -> bool:
    """What follows the stray lines is an answer: it names the product the question named or, when the question named
    none, it names a product in a sentence that is more than a redirect or a bare price line."""
    for start, stop in _sentences(rest):
        sentence = rest[start:stop].strip()
        if not sentence or _REDIRECT.search(sentence) or refusal_kinds(sentence):
            continue
        products = mentioned(sentence)
        if named is not None:
            if any(p.id == named.id for p in products):
                return True
        elif products and not _BARE_PRICE.match(sentence):
            return True
    return False


def passage_answer(context: Context) -> str | None:
    """The best knowledge passage as the data builder's knowledge answers say it ("On <topic>: <text>"), or None."""
    if not context.passages:
        return None
    section = context.passages[0]
    topic = topic_in_sentence(section.headings[-1]) if section.headings else ""
    return f"On {topic}: {passage_text(section)}" if topic else passage_text(section)
