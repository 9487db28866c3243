"""The guides in docs/ stay true: their YAML is valid project configuration, the config fields they name
exist, and the PostgreSQL guide's steps and error messages are what a real PostgreSQL server gives."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from domainlm.config import ProjectConfig, load_project

ROOT = Path(__file__).resolve().parents[1]
# Pages whose ```yaml blocks must each be a valid project file (partial sections are fine: fields default).
YAML_PAGES = ("docs/postgres.md", "docs/scaling.md", "docs/eval-report.md", "README.md")


def fenced(text: str, lang: str) -> list[str]:
    """The bodies of the ```lang blocks of a Markdown page, in order."""
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def flat(text: str) -> str:
    """Whitespace and table borders collapsed, so messages compare the same however rich drew them."""
    return " ".join(re.sub(r"[\u2500-\u257f]", " ", text).split())


def page(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", YAML_PAGES)
def test_every_yaml_block_is_a_valid_project_file(name, tmp_path):
    blocks = fenced(page(name), "yaml")
    assert blocks, f"{name} has no ```yaml block"
    for i, block in enumerate(blocks, 1):
        raw = yaml.safe_load(block)
        assert isinstance(raw, dict), f"{name}, yaml block {i}: not a mapping of sections"
        folder = tmp_path / f"block{i}"
        folder.mkdir()
        (folder / "domainlm.yaml").write_text(block, encoding="utf-8")
        load_project(folder)  # raises ConfigError naming the field when a block drifts from the config models


def _field_exists(path: str) -> bool:
    model: type[BaseModel] | None = ProjectConfig
    for part in path.split("."):
        if model is None or part not in model.model_fields:
            return False
        annotation = model.model_fields[part].annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return True


@pytest.mark.parametrize("name", YAML_PAGES[:3])
def test_config_fields_named_in_the_guides_exist(name):
    sections = "|".join(ProjectConfig.model_fields)
    named = {path for path in re.findall(rf"`((?:{sections})\.[a-z_]+(?:\.[a-z_]+)*)`", page(name))
             if not re.search(r"\.(csv|jsonl|parquet|md|yaml|json|html|db|sh)$", path)}  # file names, not fields
    assert named, f"{name} names no config field"
    missing = sorted(p for p in named if not _field_exists(p))
    assert not missing, f"{name} names config fields that do not exist: {missing}"


def test_qlora_on_cpu_is_refused_as_the_scaling_guide_says(tiny_model_dir):
    import torch

    from domainlm.config import TrainConfig
    from domainlm.train.errors import TrainError
    from domainlm.train.model import load_for_training

    with pytest.raises(TrainError) as err:
        load_for_training(tiny_model_dir, TrainConfig(qlora=True), torch.device("cpu"), bf16=False)
    assert "needs a CUDA GPU" in str(err.value)
    assert "needs a CUDA GPU" in page("docs/scaling.md")


def test_a_base_model_missing_from_the_cache_gives_the_scaling_guides_message(monkeypatch):
    from domainlm.errors import ModelError
    from domainlm.models.base import resolve_base_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    try:
        resolve_base_model("Qwen/Qwen3-8B")
    except ModelError as exc:
        assert flat(str(exc)) in flat(page("docs/scaling.md"))
    else:
        pytest.skip("Qwen/Qwen3-8B is in this machine's Hugging Face cache")


# ---- scripts/fresh_clone_check.sh ---------------------------------------------------------------------------

SCRIPT = ROOT / "scripts" / "fresh_clone_check.sh"


def test_fresh_clone_script_parses_and_its_dry_run_names_the_readme_commands():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    out = subprocess.run(["bash", str(SCRIPT), "--dry-run"], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    readme_commands = [line.split("#")[0].strip() for line in fenced(page("README.md"), "bash")[0].splitlines()]
    assert readme_commands == ["make demo", "make test"]
    for command in readme_commands:
        assert command in out.stdout
    assert "DOMAINLM_HOME=" in out.stdout and "git clone" in out.stdout
    only = subprocess.run(["bash", str(SCRIPT), "--dry-run", "--only", "tests"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert only.returncode == 0 and "make test" in only.stdout and "make demo" not in only.stdout
    bad = subprocess.run(["bash", str(SCRIPT), "--only", "nothing"], capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and "--only" in bad.stderr


STAND_IN_MAKEFILE = """\
demo:
	mkdir -p .venv/bin && ln -sf {python} .venv/bin/python
	echo "Chat page: http://127.0.0.1:{port}/   API: http://127.0.0.1:{port}/v1"
	exec .venv/bin/python -m http.server {port} --bind 127.0.0.1 --directory site
test:
	test -n "$$DOMAINLM_HOME" && test -d "$$DOMAINLM_HOME" && test -z "$$(ls -A "$$DOMAINLM_HOME")"
	exit {test_exit}
"""


def _stand_in_repo(tmp_path: Path, test_exit: int) -> tuple[Path, int]:
    """A tiny git repository with this README's command block and the script, whose `make demo` serves."""
    import sys

    from support.net import free_port

    repo, port = tmp_path / "repo", free_port()
    (repo / "scripts").mkdir(parents=True)
    (repo / "site").mkdir()
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / "site" / "index.html").write_text("chat page")
    (repo / "site" / "health").write_text("ok")
    (repo / "examples" / "wine-shop").mkdir(parents=True)
    (repo / "examples" / "wine-shop" / "domainlm.yaml").write_text(f"serve:\n  host: 127.0.0.1\n  port: {port}\n")
    (repo / "README.md").write_text(page("README.md"))
    (repo / "Makefile").write_text(STAND_IN_MAKEFILE.format(python=sys.executable, port=port, test_exit=test_exit))
    (repo / "scripts" / "fresh_clone_check.sh").write_text(SCRIPT.read_text())
    (repo / ".gitignore").write_text(".venv/\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "stand-in"], check=True)
    return repo, port


@pytest.mark.parametrize("test_exit", [0, 3])  # make exits 2 when a recipe fails
def test_fresh_clone_script_runs_both_commands_times_them_and_stops_the_demo_server(tmp_path, test_exit):
    repo, port = _stand_in_repo(tmp_path, test_exit)
    run = subprocess.run(["bash", str(repo / "scripts" / "fresh_clone_check.sh"), "--timeout-s", "60"],
                         capture_output=True, text=True, timeout=120, check=False)
    out = run.stdout + run.stderr
    assert f"the demo serves http://127.0.0.1:{port}/" in out, out
    assert re.search(r"make demo\s+ok\s+\d+s", out), out
    if test_exit == 0:
        assert run.returncode == 0 and re.search(r"make test\s+ok\s+\d+s", out), out
    else:
        assert run.returncode == 1 and re.search(r"make test\s+FAIL\s+\d+s\s+\(exit 2\)", out), out
    with pytest.raises(OSError):  # the demo's server was stopped with the script
        import socket

        socket.create_connection(("127.0.0.1", port), timeout=2).close()


# ---- docs/postgres.md, step by step against a real server ---------------------------------------------------

GUIDE_HOST = "db.internal:5432"
GUIDE_PASSWORD_RE = r"CREATE ROLE domainlm LOGIN PASSWORD '([^']+)'"


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory):
    """A private PostgreSQL server with the guide's database, where the role `domainlm` must give a password."""
    import psycopg
    from support.postgres import postgres_server

    with postgres_server(tmp_path_factory.mktemp("pg-guide"), dbname="shop") as pg:
        # The test server trusts every local connection; make the guide's role authenticate for real.
        hba = pg.datadir / "pg_hba.conf"
        hba.write_text("host all domainlm 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname="shop", autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        yield pg


def _sql(pg, statement: str) -> None:
    import psycopg

    with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname="shop", autocommit=True) as conn:
        conn.execute(statement)


def sets(*overrides: str) -> list[str]:
    return [arg for item in overrides for arg in ("--set", item)]


def _cli(args: list[str], capsys) -> tuple[int, str]:
    """Run a domainlm command in-process as typed; (exit code, stdout + stderr with whitespace collapsed)."""
    from domainlm.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    captured = capsys.readouterr()
    return code, flat(captured.out + captured.err)


@pytest.mark.slow
def test_postgres_guide_steps_and_errors_on_a_real_server(shop_db, tmp_path, monkeypatch, capsys):
    from domainlm.catalog import load_catalog

    guide = page("docs/postgres.md")
    setup_sql, update_sql = fenced(guide, "sql")
    by_table, by_query = [yaml.safe_load(b)["catalog"] for b in fenced(guide, "yaml")[:2]]
    assert "table" in by_table and "query" in by_query
    address = f"{shop_db.host}:{shop_db.port}"

    # Step 2: the table and the read-only role, exactly as written.
    _sql(shop_db, setup_sql)
    password = re.search(GUIDE_PASSWORD_RE, setup_sql).group(1)

    # Step 1 and 3: a starter project whose `catalog:` section is the guide's.
    root = tmp_path / "my-shop"
    assert _cli(["init", str(root)], capsys)[0] == 0
    config_file = root / "domainlm.yaml"

    def use_catalog(section: dict) -> None:
        raw = yaml.safe_load(config_file.read_text())
        raw["catalog"] = {**section, "source": section["source"].replace(GUIDE_HOST, address)}
        config_file.write_text(yaml.safe_dump(raw, sort_keys=False))

    cfg = ["-c", str(config_file)]
    monkeypatch.delenv("PGPASSWORD", raising=False)

    # Step 4: no password anywhere -> the guide's first error; PGPASSWORD -> it works.
    use_catalog(by_table)
    code, out = _cli(["catalog", "check", *cfg], capsys)
    errors = [(code, out, "fe_sendauth: no password supplied")]
    monkeypatch.setenv("PGPASSWORD", password)

    # Step 5, by table: all six rows; numeric spec columns read as numbers, like the same CSV values.
    code, out = _cli(["catalog", "check", *cfg], capsys)
    assert code == 0 and "products 6" in out, out
    table_catalog = load_catalog(load_project(config_file).catalog, root)
    assert table_catalog.get("W-0003").attribute("alcohol").render() == "14%"

    # Step 5, by query: the five active rows.
    use_catalog(by_query)
    code, out = _cli(["catalog", "check", *cfg], capsys)
    assert code == 0 and "products 5" in out and "version" in out, out
    project = load_project(config_file)
    query_catalog = load_catalog(project.catalog, root)
    assert query_catalog.get("W-0003").attribute("alcohol").render() == "14%"
    assert "W-0004" not in query_catalog
    assert f"products 5 version {query_catalog.version}" in flat(guide), "the catalog check output in the guide is stale"

    # The whole connection from the environment (`postgresql:///shop` and PG* variables).
    monkeypatch.setenv("PGHOST", shop_db.host)
    monkeypatch.setenv("PGPORT", str(shop_db.port))
    monkeypatch.setenv("PGUSER", "domainlm")
    code, out = _cli(["catalog", "check", *cfg, "--set", "catalog.source=postgresql:///shop"], capsys)
    assert code == 0 and "products 5" in out, out
    for name in ("PGHOST", "PGPORT", "PGUSER"):
        monkeypatch.delenv(name)

    # Step 6: build the index.
    code, out = _cli(["index", "build", *cfg], capsys)
    assert code == 0 and "Index built" in out and "products 5" in out, out

    # Step 7: a price change makes the index stale until `index update`, which re-embeds nothing.
    _sql(shop_db, update_sql)
    errors.append((*_cli(["index", "query", "rioja", *cfg], capsys), "Run `domainlm index update` to apply the changes."))
    code, out = _cli(["index", "update", *cfg], capsys)
    assert code == 0 and "price/stock only 1" in out and "texts embedded 0" in out, out
    updated = load_catalog(project.catalog, root).version
    assert "price/stock only 1" in flat(guide) and f"catalog version {updated}" in flat(guide), "the index update output in the guide is stale"
    code, out = _cli(["index", "query", "rioja reserva", "-k", "1", *cfg], capsys)
    assert code == 0 and "$16.90" in out, out

    # Step 8: every listed error, as the real server and the real CLI give it.
    wrong = f"catalog.source=postgresql://domainlm:not-{password}@{address}/shop"
    code, out = _cli(["catalog", "check", *cfg, *sets(wrong)], capsys)
    assert "domainlm:***@" in out and f"not-{password}" not in out
    errors.append((code, out, 'FATAL: password authentication failed for user "domainlm"'))
    errors.append((*_cli(["catalog", "check", *cfg, *sets("catalog.source=postgresql://domainlm@127.0.0.1:1/shop")],
                         capsys), "Connection refused"))
    errors.append((*_cli(["catalog", "check", *cfg, *sets("catalog.source=postgresql://domainlm@db.internal/shop")],
                         capsys), "cannot read the catalog: failed to resolve host 'db.internal'"))
    _sql(shop_db, "ALTER TABLE products RENAME TO products_old")
    try:
        errors.append((*_cli(["catalog", "check", *cfg], capsys), 'the catalog query failed: relation "products" does not exist'))
    finally:
        _sql(shop_db, "ALTER TABLE products_old RENAME TO products")
    _sql(shop_db, "REVOKE SELECT ON products FROM domainlm")
    try:
        errors.append((*_cli(["catalog", "check", *cfg], capsys), "the catalog query failed: permission denied for table products"))
    finally:
        _sql(shop_db, "GRANT SELECT ON products TO domainlm")
    errors.append((*_cli(["catalog", "check", *cfg, *sets("catalog.query=SELEC sku FROM products")], capsys),
                   'the catalog query failed: syntax error at or near "SELEC"'))
    errors.append((*_cli(["catalog", "check", *cfg, *sets("catalog.query=")], capsys),
                   "SQL sources need `catalog.table` or `catalog.query`."))
    errors.append((*_cli(["catalog", "check", *cfg, *sets("catalog.table=products")], capsys),
                   "catalog: give either `catalog.table` or `catalog.query`, not both"))
    errors.append((*_cli(["catalog", "check", *cfg, *sets("catalog.query=", "catalog.table=products; drop")], capsys),
                   "catalog.table 'products; drop' is not a plain table name."))
    errors.append((*_cli(["index", "build", *cfg, *sets("catalog.query=", "catalog.table=products")], capsys),
                   "catalog.name_column: column 'name' is not in the catalog; columns: abv, active, category,"))
    empty_name = ("catalog.query=SELECT sku, CASE WHEN sku = 'W-0003' THEN NULL ELSE title END AS name, price "
                  "FROM products WHERE active ORDER BY sku")
    errors.append((*_cli(["index", "build", *cfg, *sets(empty_name, "catalog.fields=[]", "catalog.category_column=null",
                                                        "catalog.stock_column=null", "catalog.description_column=null")],
                         capsys), "row 5, id W-0003: name: empty name"))
    errors.append((*_cli(["catalog", "check", *cfg, *sets("catalog.source=mysql://domainlm@127.0.0.1/shop")], capsys),
                   "not a usable database URL (No module named 'MySQLdb')."))

    flat_guide = flat(guide)
    for code, out, message in errors:
        assert code in (1, 2), f"expected a failure with {message!r}, got exit {code}: {out}"
        assert message in out, f"the CLI no longer says {message!r}; it said: {out}"
        assert message in flat_guide, f"docs/postgres.md does not quote {message!r} (the CLI says: {out})"
