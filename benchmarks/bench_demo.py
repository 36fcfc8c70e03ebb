"""Benchmark: `yibao demo` end to end (target: under 30 s on this machine),
each step's share, and `yibao synth` for benchmark-sized data.

Each run is a fresh process (the way a newcomer runs it); the figures are the
best and the worst of the runs, since this machine is shared.

    python benchmarks/bench_demo.py [--runs 3] [--synth 100000] [--write]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engine import write_section  # noqa: E402


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "yibao", *args], check=True, capture_output=True)
    return time.perf_counter() - started


def steps_once(folder: Path) -> dict[str, float]:
    """Seconds per step of one demo run, in process (which step costs what)."""
    from yibao import demo
    from yibao.macros import _bar

    marks: list[tuple[str, float]] = []

    class Clock(_bar.Bar):
        def __call__(self, done, total=None):
            marks.append((self.label, time.perf_counter()))

        def close(self):
            marks.append(("end", time.perf_counter()))

    demo.run(folder, bar=Clock("demo"))
    return {label: round(marks[i + 1][1] - t, 2) for i, (label, t) in enumerate(marks[:-1])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--synth", type=int, default=100_000, help="persons for the synth timing")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [timed(["demo", str(Path(tmp) / f"run{i}")]) for i in range(args.runs)]
        steps = steps_once(Path(tmp) / "steps")
        synth = timed(["synth", "--persons", str(args.synth), "-o", str(Path(tmp) / "synth")])
    lines = [
        f"Machine: {platform.machine()}, Python {platform.python_version()}; measured {datetime.date.today()}.",
        "",
        "### `yibao demo` (1,000 persons, PDF through LibreOffice), fresh process each run",
        "",
        f"Target: under 30 s. Runs: {', '.join(f'{t:.1f} s' for t in runs)} "
        f"(best {min(runs):.1f} s, worst {max(runs):.1f} s).",
        "",
        "| step | seconds (one run, in process) |",
        "|---|---:|",
        *[f"| {label} | {sec:.2f} |" for label, sec in steps.items()],
        "",
        f"`yibao synth --persons {args.synth:,}` (data for the action benchmarks): {synth:.1f} s.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(text, marker="demo")


if __name__ == "__main__":
    main()
