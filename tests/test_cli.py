"""Smoke tests for the project commands: init writes a working project."""

from __future__ import annotations

import pytest

from domainlm.cli import main
from domainlm.config import load_project


def run(*argv) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    return exit_info.value.code or 0


def test_init_example_writes_a_project_that_checks(tmp_path, capsys):
    target = tmp_path / "shop"
    assert run("init", str(target), "--example", "wine-shop") == 0
    project = load_project(target)
    assert project.brand.assistant_name == "Vera"
    assert len(list((target / "knowledge").glob("*.md"))) >= 6
    assert run("catalog", "check", "-c", str(target)) == 0
    out = capsys.readouterr().out
    assert "307" in out or "products" in out


def test_init_refuses_non_empty_folder_and_unknown_example(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    assert run("init", str(tmp_path / "x")) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"
    assert run("init", str(tmp_path / "y"), "--example", "bakery") == 2
    assert "wine-shop" in capsys.readouterr().err
    assert not (tmp_path / "y").exists()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_starter_project_checks(tmp_path):
    assert run("init", str(tmp_path / "p")) == 0
    assert run("catalog", "check", "-c", str(tmp_path / "p"), "--set", "catalog.currency=EUR") == 0


def test_set_override_with_unknown_field_is_named(tmp_path, capsys):
    run("init", str(tmp_path / "p"))
    assert run("catalog", "check", "-c", str(tmp_path / "p"), "--set", "catalog.colour=red") == 2
    assert "catalog.colour" in capsys.readouterr().err
