"""alwidgets benchmarks: ``python -m benchmarks [--quick] [name ...]`` (or ``make bench``).

Each ``bench_<name>.py`` module defines ``main(quick: bool) -> str`` that runs its
measurements, prints progress, and returns a Markdown section (tables with ratios
against a baseline measured in the same run). ``__main__`` writes every section to
``benchmarks/results/<name>.md`` and assembles ``benchmarks/README.md``.
"""
