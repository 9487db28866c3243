"""Knowledge documents split into sections with heading paths; bad files give clear errors."""

from __future__ import annotations

import pytest

from domainlm.errors import KnowledgeError
from domainlm.knowledge import load_knowledge, split_markdown


def test_sections_keep_heading_path_and_source():
    text = "Intro line\n# Shipping\nWe ship fast.\n## Returns\nWithin 30 days.\n# Age\n## ID\nBring ID.\n"
    sections = split_markdown(text, "kb/policies.md")
    assert [s.headings for s in sections] == [(), ("Shipping",), ("Shipping", "Returns"), ("Age", "ID")]
    assert sections[2].text == "Within 30 days."
    assert sections[2].title == "Shipping > Returns"
    assert sections[0].title == "policies"
    assert [s.id for s in sections] == ["policies#0", "policies#1", "policies#2", "policies#3"]
    assert all(s.source == "kb/policies.md" for s in sections)


def test_code_fences_are_not_split_at_hash_lines():
    text = "# Recipes\n```\n# not a heading\nshake well\n```\n"
    sections = split_markdown(text, "r.md")
    assert len(sections) == 1 and "# not a heading" in sections[0].text


def test_load_knowledge_globs_in_stable_order(tmp_path):
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "b.md").write_text("# B\nbee\n")
    (tmp_path / "kb" / "a.md").write_text("# A\nay\n")
    sections = load_knowledge(["kb/*.md", "kb/a.md"], tmp_path)
    assert [s.source for s in sections] == ["kb/a.md", "kb/b.md"]


def test_bad_encoding_and_empty_files_are_named(tmp_path):
    (tmp_path / "latin.md").write_bytes("# Caf\xe9\n".encode("latin-1") + b"text\n")
    with pytest.raises(KnowledgeError, match=r"latin\.md: not UTF-8"):
        load_knowledge(["latin.md"], tmp_path)
    (tmp_path / "empty.md").write_text("  \n")
    with pytest.raises(KnowledgeError, match=r"empty\.md: the file is empty"):
        load_knowledge(["empty.md"], tmp_path)
    (tmp_path / "heads.md").write_text("# A\n## B\n")
    with pytest.raises(KnowledgeError, match="only headings"):
        load_knowledge(["heads.md"], tmp_path)
