"""Analysis speed: every bundled spec together (cold, with two jobs, and again from the
result cache), then each spec alone (cold command time, z3 query count, query times).

Run: python3 benchmarks/bench_analysis.py [--repeat N] [SPEC ...]
Writes benchmarks/results/analysis.json with the machine it ran on and its load average
(figures taken on a loaded machine are marked noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
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


def command_seconds(
    specs: list[Path], jobs: int, *, cache: bool, env: dict[str, str], fmt: str = "json"
) -> float:
    """Wall time of one whole `pgv analyze` process over ``specs``, writing ``fmt``."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "analyzer",
            "analyze",
            *map(str, specs),
            "--format",
            fmt,
            "--jobs",
            str(jobs),
            "--cache" if cache else "--no-cache",
            "-o",
            os.devnull,
        ],
        check=True,
        cwd=ROOT,
        env=env,
    )
    return time.perf_counter() - started


def cold_seconds(spec: Path, repeat: int, jobs: int) -> list[float]:
    """Wall time of a whole `pgv analyze` process, ``repeat`` times, without the cache."""
    return [command_seconds([spec], jobs, cache=False, env=dict(os.environ)) for _ in range(repeat)]


def all_specs(specs: list[Path], repeat: int) -> dict[str, object]:
    """Every spec in one command: cold with two jobs, then served from a fresh cache, both
    as the terminal report (the README's command) and as JSON."""
    with tempfile.TemporaryDirectory() as cache_dir:
        env = {**os.environ, "PGV_CACHE_DIR": cache_dir}
        cold = [command_seconds(specs, 2, cache=False, env=env) for _ in range(repeat)]
        command_seconds(specs, 2, cache=True, env=env)  # fills the cache
        cached = [command_seconds(specs, 2, cache=True, env=env, fmt="text") for _ in range(repeat)]
        cached_json = [command_seconds(specs, 2, cache=True, env=env) for _ in range(repeat)]
    return {
        "command": "pgv analyze " + " ".join(f"isa_specs/{s.name}" for s in specs) + " -j 2",
        "cold_jobs2_s": [round(t, 2) for t in cold],
        "cold_jobs2_s_median": round(statistics.median(cold), 2),
        "cached_s": [round(t, 2) for t in cached],
        "cached_s_median": round(statistics.median(cached), 2),
        "cached_json_s": [round(t, 2) for t in cached_json],
        "cached_json_s_median": round(statistics.median(cached_json), 2),
    }


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
    load_before = os.getloadavg()
    together = all_specs(specs, args.repeat)
    print(
        f"all specs, jobs=2: cold {together['cold_jobs2_s_median']:.2f} s, "
        f"cached {together['cached_s_median']:.2f} s, as JSON "
        f"{together['cached_json_s_median']:.2f} s (median of {args.repeat})"
    )
    rows = [measure(spec, args.repeat) for spec in specs]
    for row in rows:
        print(
            f"{row['spec']:16} {row['instructions']:4} instr  {row['queries']:5} queries  "
            f"median query {row['median_query_ms']:7.2f} ms  "
            f"cold {row['cold_command_s_median']:6.2f} s"
            f" jobs=2 {row['cold_command_jobs2_s_median']:6.2f} s"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    load = [round(x, 2) for x in (*load_before, *os.getloadavg())]
    record = {
        "benchmark": "analysis",
        "command": "python3 benchmarks/bench_analysis.py --repeat " + str(args.repeat),
        "machine": {**machine(), "load_average_1_5_15_before_after": load},
        # The benchmark itself keeps up to two cores busy; a one-minute load above half the
        # cores before it started means other work shared the CPU (the 5- and 15-minute
        # averages still show work that had finished).
        "noisy": load[0] > 0.5 * (os.cpu_count() or 1),
        "all_specs": together,
        "results": rows,
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
