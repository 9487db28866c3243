"""The generated references in docs/ match the code, so they never drift."""

from __future__ import annotations

from pathlib import Path

from domainlm.docgen import cli_reference, config_reference

ROOT = Path(__file__).resolve().parents[1]


def test_config_reference_is_current():
    assert (ROOT / "docs" / "config.md").read_text(encoding="utf-8") == config_reference(), (
        "docs/config.md is stale: run `python -m domainlm.docgen`"
    )


def test_cli_reference_is_current():
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == cli_reference(), (
        "docs/cli.md is stale: run `python -m domainlm.docgen`"
    )


def test_readme_names_the_two_commands_and_ci_calls_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
