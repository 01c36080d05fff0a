"""Run the benchmarks and assemble ``benchmarks/README.md``.

Usage: ``python -m benchmarks [--quick] [name ...]`` where ``name`` is the part after
``bench_`` (e.g. ``store``). Without names every benchmark runs.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path

from benchmarks._common import machine

HERE = Path(__file__).parent
RESULTS = HERE / "results"

INTRO = """# Benchmarks

Reproduce with `make bench` (all) or `.venv/bin/python -m benchmarks NAME` (one; `--quick`
for a smoke run). Every table compares against a baseline measured **in the same run**,
so the ratios hold on other machines even when the absolute times do not. Sections below
are written by the benchmark modules themselves; each says which data, how many seeds and
the spread.
"""


def available() -> list[str]:
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name.startswith("bench_")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help=f"subset of: {', '.join(available())}")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {available()}")
    RESULTS.mkdir(exist_ok=True)
    for name in names:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        module = importlib.import_module(f"benchmarks.bench_{name}")
        section = module.main(quick=args.quick)
        stamp = f"\n\n_Measured on {machine()}; took {time.perf_counter() - t0:.0f} s"
        stamp += " (quick mode)._\n" if args.quick else "._\n"
        print(section + stamp, flush=True)
        if not args.quick:
            (RESULTS / f"{name}.md").write_text(section.rstrip() + stamp)
    sections = [p.read_text() for p in sorted(RESULTS.glob("*.md"))]
    (HERE / "README.md").write_text(INTRO + "\n" + "\n\n".join(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
