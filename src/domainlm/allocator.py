"""tcmalloc under the torch work of `domainlm train`, `demo`, `serve`, `eval` and `chat` on Linux.

Why: on CPU, a training step allocates and frees megabytes of activations hundreds of times. glibc's malloc
hands many of those blocks back to the kernel and faults fresh pages in for the next ones (~70,000 page faults
a step for SmolLM2-135M at 4 x 512 on the 2-core Xeon, where a 6 MB matmul output then takes twice as long as
alone). Under tcmalloc, which keeps freed blocks for reuse, the same step faulted ~8,500 times, ran 13-17%
faster and peaked 0.7 GB lower (measured with `LD_PRELOAD`; see docs/training.md). Serving gains the same
way: under glibc an 8-row batch's cache is fresh pages every batch, and the batched server ran ~14% faster
under tcmalloc (docs/serving.md). The allocator must be chosen before the process starts, so the command
starts itself again with tcmalloc in `LD_PRELOAD`, the way PyTorch's own CPU launcher
(`torch.backends.xeon.run_cpu --enable-tcmalloc`) does.

`DOMAINLM_ALLOCATOR`: `auto` (default: tcmalloc when its library is installed, glibc otherwise), `tcmalloc`
(warn when it is missing) or `system` (never switch). `make setup` installs Debian's libtcmalloc-minimal4
where apt-get runs as root (scripts/install_tcmalloc.sh).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

NAMES = ("libtcmalloc_minimal.so.4", "libtcmalloc.so.4")
LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib")
_MARK = "DOMAINLM_ALLOCATOR_STARTED"  # set in the restarted process, so it never restarts twice


def find_tcmalloc() -> str | None:
    """The path of an installed tcmalloc library, or None."""
    for folder in LIBRARY_DIRS:
        for name in NAMES:
            path = Path(folder) / name
            if path.is_file():
                return str(path)
    return None


def active_allocator() -> str:
    """`tcmalloc` when this process has it loaded, `glibc` on other Linux processes, `system` elsewhere."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return "system"
    return "tcmalloc" if "libtcmalloc" in maps.read_text(errors="replace") else "glibc"


def tcmalloc_env(env: dict | None = None) -> dict | None:
    """`env` (default: this process's) with tcmalloc first in LD_PRELOAD, or None where it is not to be used."""
    env = dict(os.environ if env is None else env)
    choice = env.get("DOMAINLM_ALLOCATOR", "auto").strip().lower()
    if choice not in ("auto", "tcmalloc", "system"):
        print(f"domainlm: DOMAINLM_ALLOCATOR={choice!r} is not auto, tcmalloc or system; using auto", file=sys.stderr)
        choice = "auto"
    if choice == "system" or not sys.platform.startswith("linux"):
        return None
    library = find_tcmalloc()
    if library is None:
        if choice == "tcmalloc":
            print("domainlm: DOMAINLM_ALLOCATOR=tcmalloc, but no tcmalloc library is installed "
                  "(apt-get install libtcmalloc-minimal4); using glibc's malloc", file=sys.stderr)
        return None
    preload = env.get("LD_PRELOAD", "")
    if "libtcmalloc" not in preload:
        env["LD_PRELOAD"] = f"{library} {preload}".strip()
    return env


def restart_with_tcmalloc() -> None:
    """Start this command again under tcmalloc (does not return) unless it runs under it already, or is not to."""
    if os.environ.get(_MARK) or active_allocator() != "glibc":
        return
    env = tcmalloc_env()
    if env is None:
        return
    env[_MARK] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
