"""A real, throw-away PostgreSQL server for tests.

The server is installed (Debian's ``postgresql`` package, via apt) and started
by the test setup itself, and stopped and deleted afterwards.

Usage::

    # tests/conftest.py
    pytest_plugins = ["support.postgres"]      # provides the fixtures below

    def test_x(postgres_url): ...              # session-scoped SQLAlchemy URL

or directly::

    from support.postgres import postgres_server
    with postgres_server(tmp_path) as pg:
        engine = sqlalchemy.create_engine(pg.url)

``support`` is importable as a top-level package because ``tests/`` has no
``__init__.py``: pytest's default ``prepend`` import mode puts ``tests/`` on
``sys.path`` before importing ``tests/conftest.py`` and the test modules.

Environment:

* ``DOMAINLM_PG_BINDIR``: use the server binaries in this directory instead of
  searching ``/usr/lib/postgresql/*/bin`` (and never install anything).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import pytest

from support.net import free_port as _free_port

__all__ = [
    "PostgresServer",
    "ensure_postgres_installed",
    "postgres_server",
    "postgres_server_session",
    "postgres_url",
]

_SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
_SYSTEM_USER = "postgres"  # created by Debian's postgresql-common package
_SUPERUSER = "postgres"  # database superuser created by initdb
_INSTALL_LOCK = Path(tempfile.gettempdir()) / "domainlm-postgres-install.lock"
_POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
_APT_TIMEOUT_S = 1200
_READY_TIMEOUT_S = 30.0

_bindir_cache: Path | None = None


# --------------------------------------------------------------------------- #
# Installation
# --------------------------------------------------------------------------- #


def _version_key(path: str) -> tuple:
    ver = Path(path).parent.name  # /usr/lib/postgresql/<ver>/bin
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.]", ver))


def _find_bindir() -> Path | None:
    override = os.environ.get("DOMAINLM_PG_BINDIR")
    if override:
        return Path(override)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for cand in candidates:
        if all(os.access(os.path.join(cand, b), os.X_OK) for b in _SERVER_BINARIES):
            return Path(cand)
    # Non-Debian layouts (e.g. a distro that puts initdb on PATH).
    initdb = shutil.which("initdb")
    if initdb:
        cand = Path(initdb).resolve().parent
        if all(os.access(cand / b, os.X_OK) for b in _SERVER_BINARIES):
            return cand
    return None


def _tail(text: str, n: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def _apt(args: Sequence[str]) -> subprocess.CompletedProcess:
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise RuntimeError(
                "PostgreSQL server binaries not found and not running as root "
                "(no sudo either), so cannot install the 'postgresql' package. "
                "Install it (apt-get install postgresql) or set DOMAINLM_PG_BINDIR."
            )
        prefix = ["sudo", "-n", "--preserve-env=DEBIAN_FRONTEND,NEEDRESTART_MODE"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", NEEDRESTART_MODE="a")
    cmd = [
        *prefix,
        "apt-get",
        "-o", "DPkg::Lock::Timeout=300",
        "-o", "Dpkg::Options::=--force-confdef",
        "-o", "Dpkg::Options::=--force-confold",
        *args,
    ]
    try:
        return subprocess.run(
            cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, timeout=_APT_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        raise RuntimeError(
            f"{' '.join(cmd)} timed out after {_APT_TIMEOUT_S}s:\n{_tail(out)}"
        ) from None


@contextlib.contextmanager
def _no_service_autostart() -> Iterator[None]:
    """Make invoke-rc.d / deb-systemd-invoke refuse to start services (exit 101)
    while packages are installed, unless a policy-rc.d already exists."""
    created = False
    if os.geteuid() == 0 and not _POLICY_RC_D.exists():
        try:
            _POLICY_RC_D.write_text("#!/bin/sh\n# temporary, domainlm tests\nexit 101\n")
            _POLICY_RC_D.chmod(0o755)
            created = True
        except OSError:
            pass
    try:
        yield
    finally:
        if created:
            with contextlib.suppress(OSError):
                _POLICY_RC_D.unlink()


def _stop_system_clusters() -> None:
    """Stop any Debian-managed cluster the package may have started anyway."""
    if os.geteuid() != 0 or shutil.which("pg_lsclusters") is None:
        return
    try:
        out = subprocess.run(
            ["pg_lsclusters", "--no-header"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[3].startswith("online"):
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(
                    ["pg_ctlcluster", parts[0], parts[1], "stop", "-m", "fast"],
                    capture_output=True, timeout=60,
                )


def ensure_postgres_installed() -> Path:
    """Return the directory holding initdb, pg_ctl and postgres, installing
    Debian's ``postgresql`` package first if they are missing."""
    global _bindir_cache
    if _bindir_cache is not None:
        return _bindir_cache
    bindir = _find_bindir()
    if bindir is None:
        if os.environ.get("DOMAINLM_PG_BINDIR"):
            raise RuntimeError("DOMAINLM_PG_BINDIR is set but empty")  # pragma: no cover
        if shutil.which("apt-get") is None:
            raise RuntimeError(
                "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                "and apt-get is unavailable; install PostgreSQL or set DOMAINLM_PG_BINDIR."
            )
        with open(_INSTALL_LOCK, "a+") as lock:
            with contextlib.suppress(OSError):
                os.chmod(_INSTALL_LOCK, 0o666)
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be installing
            try:
                bindir = _find_bindir()
                if bindir is None:
                    bindir = _install_with_apt()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    missing = [b for b in _SERVER_BINARIES if not os.access(bindir / b, os.X_OK)]
    if missing:
        raise RuntimeError(f"PostgreSQL binaries {missing} missing from {bindir}")
    _bindir_cache = bindir
    return bindir


def _install_with_apt() -> Path:
    install = ["install", "-y", "--no-install-recommends", "postgresql"]
    log: list[str] = []
    with _no_service_autostart():
        lists = glob.glob("/var/lib/apt/lists/*_Packages*")
        updated = False
        if not lists:  # fresh image: no package index yet
            res = _apt(["update"])
            log.append(res.stdout)
            updated = True
        res = _apt(install)
        log.append(res.stdout)
        if res.returncode != 0 and not updated:  # stale index (404s) or unknown package
            upd = _apt(["update"])
            log.append(upd.stdout)
            res = _apt(install)
            log.append(res.stdout)
    _stop_system_clusters()
    bindir = _find_bindir()
    if res.returncode != 0 or bindir is None:
        raise RuntimeError(
            "Installing PostgreSQL with 'apt-get install -y --no-install-recommends "
            f"postgresql' failed (exit {res.returncode}); apt output tail:\n"
            + _tail("\n".join(log))
        )
    return bindir


# --------------------------------------------------------------------------- #
# Server
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class PostgresServer:
    url: str  # postgresql+psycopg://postgres@127.0.0.1:PORT/DB
    port: int
    dbname: str
    user: str
    host: str
    datadir: Path
    socket_dir: Path
    bindir: Path

    @property
    def dsn(self) -> str:
        """libpq/psycopg connection string (no SQLAlchemy driver prefix)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"


def _drop_privileges() -> bool:
    return os.geteuid() == 0


def _as_pg_user(cmd: Sequence[str]) -> list[str]:
    if not _drop_privileges():
        return list(cmd)
    if shutil.which("runuser"):
        return ["runuser", "-u", _SYSTEM_USER, "--", *cmd]
    import shlex

    return ["su", "-s", "/bin/sh", _SYSTEM_USER, "-c", shlex.join(cmd)]


def _run(cmd: Sequence[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        _as_pg_user(cmd), cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=timeout,
        env=dict(os.environ, LC_ALL="C", LANG="C"),
    )


def _pg_user_can_use(path: Path) -> bool:
    """Whether the postgres system user can traverse into *path*."""
    try:
        return subprocess.run(
            _as_pg_user(["test", "-x", str(path)]), capture_output=True, timeout=30
        ).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False



def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _make_base_dir(tmp_dir: Path | str | None) -> Path:
    parent = Path(tmp_dir) if tmp_dir is not None else Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    if _drop_privileges() and not _pg_user_can_use(parent):
        # e.g. pytest's /tmp/pytest-of-root is 0700: use the world-traversable tmp.
        parent = Path(tempfile.gettempdir())
    base = Path(tempfile.mkdtemp(prefix="domainlm-pg-", dir=parent))
    # The socket path (<dir>/.s.PGSQL.<port>) must fit in sockaddr_un (107 bytes).
    if len(str(base / "sock" / ".s.PGSQL.65535")) > 100:
        shutil.rmtree(base)
        base = Path(tempfile.mkdtemp(prefix="domainlm-pg-", dir="/tmp"))
    return base


def _chown_to_pg_user(path: Path) -> None:
    if _drop_privileges():
        pw = pwd.getpwnam(_SYSTEM_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def _stop(bindir: Path, datadir: Path, base: Path) -> None:
    if not (datadir / "postmaster.pid").exists():
        return
    for mode in ("fast", "immediate"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            res = _run(
                [str(bindir / "pg_ctl"), "stop", "-D", str(datadir), "-m", mode, "-w", "-t", "30"],
                cwd=base, timeout=60,
            )
            if res.returncode == 0 or not (datadir / "postmaster.pid").exists():
                return
    # Last resort: kill the postmaster by pid.
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((datadir / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)


@contextlib.contextmanager
def postgres_server(
    tmp_dir: Path | str | None = None, dbname: str = "domainlm_test"
) -> Iterator[PostgresServer]:
    """Start a private PostgreSQL server on 127.0.0.1:<free port>; stop it and
    delete its data on exit (also on exceptions)."""
    bindir = ensure_postgres_installed()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", dbname):
        raise ValueError(f"unsupported database name {dbname!r}")
    base = _make_base_dir(tmp_dir)
    datadir, sockdir, logfile = base / "data", base / "sock", base / "server.log"
    started = False
    try:
        for d in (base, sockdir):
            d.mkdir(exist_ok=True)
            _chown_to_pg_user(d)
        os.chmod(base, 0o755)
        res = _run(
            [str(bindir / "initdb"), "-D", str(datadir), "-U", _SUPERUSER, "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            cwd=base,
        )
        if res.returncode != 0:
            raise RuntimeError(f"initdb failed (exit {res.returncode}):\n{_tail(res.stdout)}")
        with open(datadir / "postgresql.conf", "a") as f:
            f.write(
                "\n# domainlm test server\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{sockdir}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 100\nshared_buffers = 32MB\n"
            )
        last_err = ""
        for _attempt in range(5):  # the free port may be grabbed in between: retry
            port = _free_port()
            started = True  # from here on, always try to stop
            res = _run(
                [str(bindir / "pg_ctl"), "start", "-D", str(datadir), "-l", str(logfile),
                 "-w", "-t", str(int(_READY_TIMEOUT_S)), "-o", f"-p {port}"],
                cwd=base, timeout=_READY_TIMEOUT_S + 30,
            )
            if res.returncode == 0:
                break
            _stop(bindir, datadir, base)
            log = logfile.read_text(errors="replace") if logfile.exists() else ""
            last_err = f"{res.stdout}\n{log}"
            if "could not bind" not in log and "already in use" not in log:
                break
        else:
            res = None  # type: ignore[assignment]
        if res is None or res.returncode != 0:
            raise RuntimeError(f"PostgreSQL failed to start:\n{_tail(last_err)}")

        import psycopg

        admin_dsn = f"host=127.0.0.1 port={port} user={_SUPERUSER} dbname=postgres"
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while True:
            try:
                with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'CREATE DATABASE "{dbname}"')
                break
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL on port {port} not ready: {exc}") from exc
                time.sleep(0.2)

        yield PostgresServer(
            url=f"postgresql+psycopg://{_SUPERUSER}@127.0.0.1:{port}/{dbname}",
            port=port, dbname=dbname, user=_SUPERUSER, host="127.0.0.1",
            datadir=datadir, socket_dir=sockdir, bindir=bindir,
        )
    finally:
        try:
            if started:
                _stop(bindir, datadir, base)
        finally:
            shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- #
# pytest fixtures (register with ``pytest_plugins = ["support.postgres"]``)
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="session")
def postgres_server_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole test session."""
    with postgres_server(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server_session: PostgresServer) -> str:
    """SQLAlchemy URL ``postgresql+psycopg://postgres@127.0.0.1:PORT/domainlm_test``."""
    return postgres_server_session.url
