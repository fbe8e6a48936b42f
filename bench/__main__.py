"""`python -m bench` (`make bench`): run every bench/bench_*.py and collect their Markdown reports.

Why discovery: each capability keeps its own benchmark beside the others
(pages, posts, search), and adding one needs no change here. Each module
exposes `run() -> str`, a Markdown section with its figures and the command
that produced them. The combined report is printed and written to
bench/out/results.md (not committed: figures belong to the machine that made them).
"""

from __future__ import annotations

import importlib
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "results.md"


def discover(only: list[str]) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if only:
        names = [n for n in names if n in only or n.removeprefix("bench_") in only]
    return names


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(HERE.parent))
    names = discover(argv)
    if not names:
        print("no benchmarks matched", argv, file=sys.stderr)
        return 2
    sections = [
        "# Benchmark results",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}).",
    ]
    failed = []
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            section = importlib.import_module(f"bench.{name}").run()
        except Exception:  # noqa: BLE001  (one broken bench must not hide the others' figures)
            failed.append(name)
            section = f"## {name}\n\nFAILED:\n\n```\n{traceback.format_exc()}```"
        sections.append(section.strip() + f"\n\n_{name} took {time.monotonic() - started:.0f} s._")
        print(sections[-1], flush=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n\n".join(sections) + "\n")
    print(f"\nwritten to {OUT.relative_to(HERE.parent)}", file=sys.stderr)
    return 1 if failed else 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
