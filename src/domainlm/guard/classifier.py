"""A small linear classifier over the turn: hashed character n-grams plus the `minilm` sentence embedding
(the same vector retrieval uses, so the guard adds no second embedding), multinomial logistic regression.

Trained in a few seconds and cached under `$DOMAINLM_HOME/guard/<hash of training data>.pkl`.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import dataclass

import numpy as np

from domainlm import paths

FEATURES_VERSION = 1
N_HASHED = 2**15
EMBEDDING_WEIGHT = 2.0  # the dense part's share against the l2-normalised n-gram part


def _vectorizer():
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=N_HASHED, alternate_sign=False,
                             lowercase=True, norm="l2")


def features(texts: list[str], vectors: np.ndarray):
    """[n, N_HASHED + dim] sparse rows: n-grams, then the embedding scaled by EMBEDDING_WEIGHT."""
    from scipy import sparse

    return sparse.hstack([_vectorizer().transform(texts), sparse.csr_matrix(vectors * EMBEDDING_WEIGHT)], format="csr")


@dataclass
class GuardClassifier:
    """`predict(texts, vectors) -> [n, len(classes)]` class probabilities."""

    classes: list[str]
    model: object  # sklearn LogisticRegression
    embedder: str
    data_hash: str

    def predict(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(features(texts, vectors))

    def predict_one(self, text: str, vector: np.ndarray) -> dict[str, float]:
        """Fast path for one turn: probabilities by kind."""
        probs = self.predict([text], vector.reshape(1, -1))[0]
        return dict(zip(self.classes, probs.tolist()))


def data_hash(samples: list[tuple[str, str]], embedder: str) -> str:
    blob = json.dumps([FEATURES_VERSION, embedder, sorted(samples)], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def train(samples: list[tuple[str, str]], embedder, embedder_name: str) -> GuardClassifier:
    """Fit on (text, kind) pairs; `embedder.encode(texts)` gives the unit vectors."""
    from sklearn.linear_model import LogisticRegression

    texts = [t for t, _ in samples]
    labels = [k for _, k in samples]
    vectors = np.asarray(embedder.encode(texts), np.float32)
    model = LogisticRegression(C=8.0, max_iter=3000, class_weight="balanced")
    model.fit(features(texts, vectors), labels)
    return GuardClassifier(list(model.classes_), model, embedder_name, data_hash(samples, embedder_name))


def load_or_train(samples: list[tuple[str, str]], embedder, embedder_name: str) -> GuardClassifier:
    """The cached classifier for exactly these samples, training and caching it on first use."""
    key = data_hash(samples, embedder_name)
    folder = paths.home() / "guard"
    file = folder / f"{key}.pkl"
    if file.exists():
        with file.open("rb") as handle:
            return pickle.load(handle)
    classifier = train(samples, embedder, embedder_name)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".tmp")
    with tmp.open("wb") as handle:
        pickle.dump(classifier, handle)
    tmp.replace(file)
    return classifier
