"""The guard itself: heuristics first, then the classifier, then the project's policy for the kind."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np

from domainlm.catalog.product import Catalog
from domainlm.config import ProjectConfig
from domainlm.guard.classifier import GuardClassifier, load_or_train
from domainlm.guard.heuristics import Heuristics
from domainlm.guard.samples import bank_samples, dataset_samples

KINDS = ("ok", "injection", "off_topic", "manipulation", "negotiation", "competitor")
# A heuristic hit is near-certain; its score is at least this.
HEURISTIC_SCORE = 0.95
# A turn that uses the catalog's own words (a product, region, category) or names a budget is off topic, or
# bargaining without a bargaining word the heuristics know, only when the classifier is this sure: "What region
# is the Rioja from?", "What do you have that's linear and under $15?" and "Could you give me the price for
# Lagavulin 16?" are shop questions, whatever they sound like.
SURE_WITH_CATALOG_WORDS = 0.85
_DOUBTED_WITH_CATALOG_WORDS = ("off_topic", "negotiation")
_AMOUNT = re.compile(r"[$€£¥]\s?\d|\d\s?(?:dollars|usd|eur|euros|gbp|pounds)\b", re.IGNORECASE)
# A budget ("under $15", "around 40 euros") is how shoppers ask for recommendations; off topic only when sure.
SURE_WITH_BUDGET = 0.95
_BUDGET = re.compile(r"\b(?:under|below|less than|up to|at most|around|about|max(?:imum)?|within|no more than)\s+"
                     r"(?:[$€£¥]\s?\d|\d+(?:\.\d+)?\s?(?:dollars|usd|eur|euros|gbp|pounds)\b)", re.IGNORECASE)
_STOP = frozenset("the and with from for your you our this that what which have has are was old year years of in on "
                  "a an to is it by de la le du des del".split())


# Words of any shop conversation; with the catalog's own words they mark a turn as likely in the domain.
SHOP_WORDS = frozenset("order orders delivery deliver shipping ship return returns refund stock price prices bottle "
                       "bottles basket cart checkout payment gift wrapping collect store track parcel size".split())


def catalog_words(catalog: Catalog, limit: int = 200_000) -> frozenset[str]:
    """Distinctive lower-case words of product names, categories and text attributes (4+ letters, no stop words),
    plus SHOP_WORDS."""
    words: set[str] = set(SHOP_WORDS)
    for i, p in enumerate(catalog):
        if i >= limit:
            break
        texts = [p.name, p.category or ""] + [str(a.value) for a in p.attributes if isinstance(a.value, str)]
        for text in texts:
            words.update(w for w in re.findall(r"[^\W\d_]{4,}", text.lower()) if w not in _STOP)
    return frozenset(words)


@dataclass(frozen=True)
class Verdict:
    """What the guard decided about one user turn.

    kind: one of KINDS (the Assistant adds "unknown_product" after retrieval, `verify.asked`); score: confidence
    in `kind` (0..1); action: "passed" for ok turns, else
    "answered_directly" (templated reply, no model call) or "passed_with_flag" (model answers, turn flagged);
    source: "heuristic" or "classifier"; matched: the text a heuristic matched (competitor name, phrase).
    """

    kind: str = "ok"
    score: float = 1.0
    action: str = "passed"
    source: str = "classifier"
    matched: str = ""

    @property
    def flagged(self) -> bool:
        return self.kind != "ok"

    def as_dict(self) -> dict:
        return asdict(self)


class Guard:
    """Classifies user turns; `check(text, vector)` takes the turn's `minilm` vector when the caller has it."""

    def __init__(self, classifier: GuardClassifier | None, heuristics: Heuristics, embedder,
                 policy: dict[str, str] | None = None, threshold: float = 0.5, vocabulary: frozenset[str] = frozenset()):
        self.vocabulary = vocabulary
        self.classifier = classifier
        self.heuristics = heuristics
        self.embedder = embedder
        self.policy = dict(policy or {})
        self.threshold = threshold

    @classmethod
    def for_project(cls, project: ProjectConfig, catalog: Catalog, embedder, embedder_name: str | None = None,
                    part: str = "all") -> "Guard":
        """Train (or load the cached) classifier on the banks and the project's `data/train.jsonl`.

        `part="train"` leaves every 4th bank item out of training (tests and the benchmark score on them).
        """
        samples = bank_samples(project, catalog, part)
        if part == "all":
            samples += dataset_samples(project.path("data") / "train.jsonl")
        name = embedder_name or getattr(embedder, "name", "embedder")
        classifier = load_or_train(samples, embedder, name)
        return cls(classifier, Heuristics(list(project.brand.competitors)), embedder,
                   dict(project.serve.guard_policy), project.serve.guard_threshold, catalog_words(catalog))

    def classify(self, text: str, vector: np.ndarray | None = None) -> tuple[str, float, str, str]:
        """(kind, score, source, matched) without the policy."""
        hit = self.heuristics.match(text)
        probs: dict[str, float] = {}
        if self.classifier is not None:
            if vector is None:
                vector = np.asarray(self.embedder.encode([text]), np.float32)[0]
            probs = self.classifier.predict_one(text, vector)
        if hit is not None:
            kind, matched = hit
            return kind, float(max(HEURISTIC_SCORE, probs.get(kind, 0.0))), "heuristic", matched
        if not probs:
            return "ok", 1.0, "classifier", ""
        kind = str(max(probs, key=probs.get))
        if kind != "ok" and probs[kind] < self.threshold:
            return "ok", float(probs.get("ok", 0.0)), "classifier", ""
        if kind in _DOUBTED_WITH_CATALOG_WORDS and probs[kind] < SURE_WITH_CATALOG_WORDS \
                and self._uses_catalog_words(text):
            return "ok", float(probs.get("ok", 0.0)), "classifier", ""
        if kind == "off_topic" and probs[kind] < SURE_WITH_BUDGET and _BUDGET.search(text):
            return "ok", float(probs.get("ok", 0.0)), "classifier", ""
        return kind, float(probs[kind]), "classifier", ""

    def _uses_catalog_words(self, text: str) -> bool:
        """The turn has a word of the catalog or the shop (`catalog_words`), or a money amount."""
        return bool(_AMOUNT.search(text)) or any(w in self.vocabulary for w in re.findall(r"[^\W\d_]{4,}", text.lower()))

    def check(self, text: str, vector: np.ndarray | None = None) -> Verdict:
        kind, score, source, matched = self.classify(text, vector)
        if kind == "ok":
            return Verdict("ok", round(score, 4), "passed", source, matched)
        action = "answered_directly" if self.policy.get(kind, "answer") == "answer" else "passed_with_flag"
        return Verdict(kind, round(score, 4), action, source, matched)
