"""Run every benchmark under bench/ and write bench/RESULTS.md: each figure with its in-run reference,
the machine, and the exact command.

    python bench/run_all.py            # the full set (long: the 1M retrieval scale run takes a while)
    python bench/run_all.py --quick    # each script's quick mode where it has one
"""

from __future__ import annotations

import argparse
import os
import platform
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
    "train_throughput.py": ([], ["--steps", "4", "--quality", "0"]),
    "generate_speed.py": ([], []),
    "pipeline_overhead.py": ([], []),
    "serve_load.py": ([], ["--quick"]),
    "adapter_memory.py": ([], ["--quick"]),
}


def machine() -> str:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in flags.splitlines() if line.startswith("model name")), "?")
    bf16 = "avx512_bf16" in flags
    return f"{platform.platform()}, {os.cpu_count()} cores, {model}, avx512_bf16={bf16}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="Use each script's quick mode.")
    parser.add_argument("--only", nargs="*", help="Run only these scripts.")
    args = parser.parse_args()
    sections = [f"# Benchmark results\n\nMachine: {machine()}  \nDate: {time.strftime('%Y-%m-%d %H:%M')}  \n"
                f"Mode: {'quick' if args.quick else 'full'}\n"]
    failed = []
    for script, (full, quick) in BENCHES.items():
        if args.only and script not in args.only:
            continue
        command = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        shown = " ".join(["python", f"bench/{script}", *(quick if args.quick else full)])
        print(f"== {shown}", flush=True)
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        seconds = time.perf_counter() - started
        output = result.stdout.strip() or "(no output)"
        print(output, flush=True)
        status = "ok" if result.returncode == 0 else f"exit {result.returncode}"
        if result.returncode != 0:
            failed.append(script)
            output += "\n--- stderr (tail) ---\n" + "\n".join(result.stderr.strip().splitlines()[-20:])
        sections.append(f"## {script}\n\nCommand: `{shown}` ({status}, {seconds:.0f} s)\n\n```\n{output}\n```\n")
    (HERE / "RESULTS.md").write_text("\n".join(sections), encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
