"""Generate the configuration and CLI references from the code, so the docs never drift.

`python -m domainlm.docgen` rewrites docs/config.md and docs/cli.md; a test fails when they are stale.
"""

from __future__ import annotations

import sys
import typing
from pathlib import Path

from pydantic import BaseModel

from domainlm.config import ProjectConfig


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin is None:
        return getattr(annotation, "__name__", str(annotation)).replace("NoneType", "null")
    args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
    name = getattr(origin, "__name__", str(origin)).replace("UnionType", "Union")
    return f"{name}[{args}]"


def _submodels(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [sub for arg in typing.get_args(annotation) for sub in _submodels(arg)]


def _default(info) -> str:
    if info.default_factory is not None:
        value = info.default_factory()
        if isinstance(value, BaseModel):
            return "(section)"
        if isinstance(value, dict) and value and isinstance(next(iter(value.values())), BaseModel):
            return "(see example)"
        return f"`{value!r}`"
    return "required" if info.is_required() else f"`{info.default!r}`"


def config_reference() -> str:
    lines = [
        "# Configuration reference",
        "",
        "Generated from `src/domainlm/config.py` by `python -m domainlm.docgen`; do not edit by hand.",
        "Every field can be set on the command line with `--set section.field=value`.",
        "",
    ]

    def walk(model: type[BaseModel], prefix: str) -> None:
        rows, nested = [], []
        for name, info in model.model_fields.items():
            rows.append(f"| `{prefix}{name}` | {_type_name(info.annotation)} | {_default(info)} | "
                        f"{(info.description or '').replace('|', '/')} |")
            for sub in _submodels(info.annotation):
                key = f"{prefix}{name}.<name>." if typing.get_origin(info.annotation) is dict else f"{prefix}{name}."
                nested.append((sub, key))
        lines.extend([f"## `{prefix.rstrip('.') or 'top level'}`", "", "| field | type | default | meaning |",
                      "|---|---|---|---|", *rows, ""])
        for sub, key in nested:
            walk(sub, key)

    walk(ProjectConfig, "")
    return "\n".join(lines)


def cli_reference() -> str:
    import typer.main
    from typer.testing import CliRunner

    from domainlm.cli import app

    runner = CliRunner()
    env = {"COLUMNS": "100", "TERMINAL_WIDTH": "100", "NO_COLOR": "1", "TERM": "dumb"}
    lines = ["# CLI reference", "", "Generated from `domainlm --help` by `python -m domainlm.docgen`; do not edit by hand.", ""]

    def walk(cmd, path: list[str]) -> None:
        result = runner.invoke(app, [*path, "--help"], env=env, prog_name="domainlm")
        if result.exit_code != 0:
            raise RuntimeError(f"domainlm {' '.join(path)} --help failed: {result.output}")
        body = "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())
        lines.extend([f"## `{' '.join(['domainlm', *path])}`", "", "```", body, "```", ""])
        for name in sorted(getattr(cmd, "commands", {}) or {}):
            walk(cmd.commands[name], [*path, name])

    walk(typer.main.get_command(app), [])
    return "\n".join(lines)


def write_docs(root: Path) -> list[Path]:
    docs = root / "docs"
    docs.mkdir(exist_ok=True)
    written = []
    for name, text in (("config.md", config_reference()), ("cli.md", cli_reference())):
        path = docs / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_docs(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()):
        print(f"wrote {path}")
