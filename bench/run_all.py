"""Run every benchmark under bench/ and write bench/RESULTS.md: each figure with its in-run reference,
the machine, and the exact command. eval_speed.py is left out: it needs a built project (`--project`), so it
is run by hand (docs/eval.md, "Speed").

    python bench/run_all.py            # the full set (long: the 1M retrieval scale run takes a while)
    python bench/run_all.py --quick    # each script's quick mode where it has one
    python bench/run_all.py --only serve_load.py   # rerun some; the other sections of RESULTS.md are kept
    python bench/run_all.py --only serve_load.py --args "--requests 48 --clients 8"   # with other arguments
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent

# script -> (full arguments, quick arguments); every script prints its own reference and ratios.
BENCHES: dict[str, tuple[list[str], list[str]]] = {
    "retrieval_quality.py": ([], []),
    "retrieval_scale.py": ([], ["--quick"]),
    "data_build.py": ([], []),
    "train_throughput.py": (["--rounds", "3", "--quality", "600"], ["--steps", "4", "--quality", "0"]),
    "generate_speed.py": ([], []),
    "pipeline_overhead.py": ([], []),
    "serve_load.py": ([], ["--quick"]),
    "decode_attention.py": ([], ["--pairs", "1", "--rows", "4", "--new", "8"]),
    "adapter_memory.py": ([], ["--quick"]),
}


def machine() -> str:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in flags.splitlines() if line.startswith("model name")), "?")
    bf16 = "avx512_bf16" in flags
    amx = "amx_bf16" in flags
    return (f"{platform.platform()}, {os.cpu_count()} cores, {model}, avx512_bf16={bf16}, amx={amx}, "
            f"Python {platform.python_version()}")


def _previous_sections() -> dict[str, str]:
    """The script sections of the current RESULTS.md, by script name (kept when only some are rerun)."""
    path = HERE / "RESULTS.md"
    if not path.exists():
        return {}
    parts = re.split(r"^(?=## \S+\.py\n)", path.read_text(encoding="utf-8"), flags=re.M)
    return {part.split("\n", 1)[0][3:].strip(): part.rstrip("\n") + "\n" for part in parts if part.startswith("## ")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="Use each script's quick mode.")
    parser.add_argument("--only", nargs="*", help="Run only these scripts.")
    parser.add_argument("--args", help="Arguments for the one script given with --only, in place of its defaults "
                                       "(the section records the command as run).")
    args = parser.parse_args()
    if args.args is not None and len(args.only or []) != 1:
        parser.error("--args needs exactly one script in --only")
    extra = shlex.split(args.args) if args.args is not None else None
    header = (f"# Benchmark results\n\nUpdated: {time.strftime('%Y-%m-%d %H:%M')}  \n"
              f"Each section says the machine it ran on, when, its mode and the machine's load average before it "
              f"started (other work on the 2 cores slows both sides of a ratio, not always equally); `--only` reruns "
              f"some sections and keeps the others as they were.\n")
    sections = _previous_sections() if args.only else {}
    failed = []
    for script, (full, quick) in BENCHES.items():
        if args.only and script not in args.only:
            continue
        chosen = extra if extra is not None else quick if args.quick else full
        command = [sys.executable, str(HERE / script), *chosen]
        shown = " ".join(["python", f"bench/{script}", *map(shlex.quote, chosen)])
        print(f"== {shown}", flush=True)
        load = os.getloadavg()[0]
        when = time.strftime("%Y-%m-%d %H:%M")
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        seconds = time.perf_counter() - started
        output = result.stdout.strip() or "(no output)"
        print(output, flush=True)
        status = "ok" if result.returncode == 0 else f"exit {result.returncode}"
        if result.returncode != 0:
            failed.append(script)
            output += "\n--- stderr (tail) ---\n" + "\n".join(result.stderr.strip().splitlines()[-20:])
        sections[script] = (f"## {script}\n\nCommand: `{shown}` ({status}, {seconds:.0f} s; ran {when}, "
                            f"{'own arguments' if extra is not None else 'quick' if args.quick else 'full'} mode, load average {load:.1f})  \n"
                            f"Machine: {machine()}\n\n```\n{output}\n```\n")
    ordered = [sections[name] for name in BENCHES if name in sections]
    tmp = HERE / "RESULTS.md.tmp"
    tmp.write_text("\n".join([header, *ordered]), encoding="utf-8")
    os.replace(tmp, HERE / "RESULTS.md")
    print(f"wrote {HERE / 'RESULTS.md'}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
