"""Analysis speed per bundled spec: cold command time, z3 query count, median query time.

Run: python3 benchmarks/bench_analysis.py [--repeat N] [SPEC ...]
Writes benchmarks/results/analysis.json with the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from analyzer import analyze, load_isa
from analyzer.smt.solver import QueryStats

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "analysis.json"


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import z3

    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "z3": z3.get_version_string(),
    }


def cold_seconds(spec: Path, repeat: int, jobs: int) -> list[float]:
    """Wall time of a whole `pgv analyze` process, ``repeat`` times."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "analyzer",
                "analyze",
                str(spec),
                "--format",
                "json",
                "--jobs",
                str(jobs),
                "-o",
                os.devnull,
            ],
            check=True,
            cwd=ROOT,
        )
        times.append(time.perf_counter() - started)
    return times


def measure(spec: Path, repeat: int) -> dict[str, object]:
    stats = QueryStats()
    started = time.perf_counter()
    analysis = analyze(load_isa(spec), stats=stats)
    in_process = time.perf_counter() - started
    serial = cold_seconds(spec, repeat, 1)
    parallel = cold_seconds(spec, repeat, 2)
    return {
        "spec": spec.name,
        "instructions": len(analysis.instructions),
        "queries": stats.count,
        "median_query_ms": round(statistics.median(stats.durations) * 1000, 3),
        "max_query_ms": round(max(stats.durations) * 1000, 1),
        "analysis_in_process_s": round(in_process, 2),
        "cold_command_s_median": round(statistics.median(serial), 2),
        "cold_command_jobs2_s_median": round(statistics.median(parallel), 2),
        "runs": repeat,
        "theorems": {str(t.number): t.verdict.value for t in analysis.theorems},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("specs", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    specs = args.specs or sorted((ROOT / "isa_specs").glob("*.isa"))
    rows = [measure(spec, args.repeat) for spec in specs]
    for row in rows:
        print(
            f"{row['spec']:16} {row['instructions']:4} instr  {row['queries']:5} queries  "
            f"median query {row['median_query_ms']:7.2f} ms  "
            f"cold {row['cold_command_s_median']:6.2f} s"
            f" jobs=2 {row['cold_command_jobs2_s_median']:6.2f} s"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": machine(), "results": rows}, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
