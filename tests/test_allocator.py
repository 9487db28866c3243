"""tcmalloc for `domainlm train` and `domainlm serve`: the environment they restart with, and the allocator a real
run records and a real server reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import domainlm.allocator as allocator
from test_serve_support import make_serve_project
from test_train_support import make_train_project


def test_tcmalloc_env_preloads_the_library_unless_told_not_to(tmp_path, monkeypatch, capsys):
    library = tmp_path / "libtcmalloc_minimal.so.4"
    library.write_bytes(b"")
    monkeypatch.setattr(allocator, "LIBRARY_DIRS", (str(tmp_path / "none"), str(tmp_path)))
    monkeypatch.setattr(sys, "platform", "linux")
    assert allocator.find_tcmalloc() == str(library)
    env = allocator.tcmalloc_env({"PATH": "/bin", "LD_PRELOAD": "/opt/libother.so"})
    assert env["LD_PRELOAD"] == f"{library} /opt/libother.so" and env["PATH"] == "/bin"
    assert allocator.tcmalloc_env(env)["LD_PRELOAD"] == env["LD_PRELOAD"]  # never preloaded twice
    assert allocator.tcmalloc_env({"DOMAINLM_ALLOCATOR": "system"}) is None
    assert allocator.tcmalloc_env({"DOMAINLM_ALLOCATOR": "odd"})["LD_PRELOAD"] == str(library)
    assert "DOMAINLM_ALLOCATOR='odd'" in capsys.readouterr().err

    library.unlink()
    assert allocator.tcmalloc_env({"DOMAINLM_ALLOCATOR": "auto"}) is None
    assert allocator.tcmalloc_env({"DOMAINLM_ALLOCATOR": "tcmalloc"}) is None
    assert "apt-get install libtcmalloc-minimal4" in capsys.readouterr().err
    monkeypatch.setattr(sys, "platform", "darwin")
    library.write_bytes(b"")
    assert allocator.tcmalloc_env({}) is None  # LD_PRELOAD is a Linux (glibc loader) matter


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LD_PRELOAD and /proc/self/maps are Linux's")
def test_domainlm_train_runs_under_tcmalloc_where_installed(tmp_path, tiny_model_dir):
    """`domainlm train` restarts itself under tcmalloc (make setup installs it where apt-get runs as root) and
    records the allocator it ran under in versions.json; DOMAINLM_ALLOCATOR=system keeps glibc's malloc."""
    expected = "tcmalloc" if allocator.find_tcmalloc() else "glibc"
    for choice, want in (("auto", expected), ("system", "glibc")):
        root = make_train_project(tmp_path / choice, tiny_model_dir, n_train=8, n_val=4,
                                  train={"max_steps": 2, "eval_every": 2, "save_every": 2})
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", DOMAINLM_ALLOCATOR=choice)
        result = subprocess.run([sys.executable, "-c", "from domainlm.cli import main; main()", "train", "-c", str(root)],
                                cwd=root, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        (versions,) = list((root / "runs").glob("*/versions.json"))
        assert json.loads(versions.read_text())["allocator"] == want, choice


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LD_PRELOAD and /proc/self/maps are Linux's")
def test_domainlm_serve_runs_under_tcmalloc_where_installed(tmp_path, tiny_tokenizer):
    """`domainlm serve` restarts itself under tcmalloc too (the batched server was ~14% faster, see
    docs/serving.md) and says so in /health; DOMAINLM_ALLOCATOR=system keeps glibc's malloc."""
    import socket
    import time

    import httpx

    root = make_serve_project(tmp_path / "shop", tiny_tokenizer)
    expected = "tcmalloc" if allocator.find_tcmalloc() else "glibc"
    for choice, want in (("auto", expected), ("system", "glibc")):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "DOMAINLM_API_KEYS")}
        env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", DOMAINLM_ALLOCATOR=choice)
        process = subprocess.Popen([sys.executable, "-c", "from domainlm.cli import main; main()", "serve", "-c",
                                    str(root), "--port", str(port), "--set", "serve.catalog_poll_s=0"],
                                   cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            health, deadline = None, time.monotonic() + 180
            while health is None and time.monotonic() < deadline and process.poll() is None:
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
                except httpx.HTTPError:
                    time.sleep(0.5)
        finally:
            process.terminate()
            output = process.communicate(timeout=60)[0]
        assert health is not None, f"server did not come up: {output[-3000:]}"
        assert health["allocator"] == want, choice
