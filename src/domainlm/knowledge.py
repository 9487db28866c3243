"""Knowledge documents: Markdown files split into sections that keep their heading path and source."""

from __future__ import annotations

import glob
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from domainlm.errors import KnowledgeError

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class KnowledgeSection:
    """One section of a knowledge document: the text under a heading, down to the next heading."""

    id: str  # "<file stem>#<n>", stable while the document's structure is
    source: str  # file path relative to the project folder
    headings: tuple[str, ...]  # heading path, outermost first: ("Shipping and returns", "Returns")
    text: str

    @property
    def title(self) -> str:
        return " > ".join(self.headings) if self.headings else Path(self.source).stem

    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.text}".encode("utf-8")).hexdigest()[:16]


def split_markdown(text: str, source: str) -> list[KnowledgeSection]:
    """Split Markdown into sections at headings; fenced code blocks are never split.

    >>> [s.headings for s in split_markdown("# A\\nx\\n## B\\ny", "a.md")]
    [('A',), ('A', 'B')]
    """
    stem = Path(source).stem
    sections: list[KnowledgeSection] = []
    path: list[tuple[int, str]] = []
    body: list[str] = []
    in_fence = False

    def flush() -> None:
        content = "\n".join(body).strip()
        if content:
            sections.append(
                KnowledgeSection(
                    id=f"{stem}#{len(sections)}", source=source, headings=tuple(h for _, h in path), text=content
                )
            )
        body.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, match.group(2).strip()))
        else:
            body.append(line)
    flush()
    return sections


def load_knowledge(patterns: list[str], root: Path) -> list[KnowledgeSection]:
    """Load every Markdown file matched by the globs (relative to `root`), in a stable order."""
    files: list[Path] = []
    for pattern in patterns:
        full = pattern if Path(pattern).is_absolute() else str(root / pattern)
        matched = sorted(Path(p) for p in glob.glob(full, recursive=True))
        files.extend(p for p in matched if p.is_file() and p not in files)
    sections: list[KnowledgeSection] = []
    for file in files:
        rel = str(file.relative_to(root)) if file.is_relative_to(root) else str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise KnowledgeError(
                f"{rel}: not UTF-8 text ({exc.reason} at byte {exc.start}); re-save the file as UTF-8."
            ) from None
        if not text.strip():
            raise KnowledgeError(f"{rel}: the file is empty; add content or remove it from `knowledge:`.")
        found = split_markdown(text, rel)
        if not found:
            raise KnowledgeError(f"{rel}: only headings, no text; add content under the headings.")
        sections.extend(found)
    return sections
