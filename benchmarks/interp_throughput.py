"""Concrete interpreter throughput per bundled ISA: guest instructions stepped per second.

Each ISA gets a fixed, seeded workload of random valid instructions (every modelled
instruction equally often, operands satisfying its ``where`` clauses) on random states (every
register drawn, a few memory cells set). Only :func:`analyzer.interp.Interpreter.step` is
timed; a trap counts as a step (its handler is not run). The best of ``--repeat`` timed passes
is reported, with the median beside it.

Run: python3 benchmarks/interp_throughput.py [--steps N] [--repeat N] [SPEC ...]
Writes benchmarks/results/interp_throughput.json with the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from analyzer import ir
from analyzer.interp import Interpreter, MemoryImage, State, Value, interpreter
from analyzer.validate import load_isa

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "interp_throughput.json"
STATES = 64
OPERAND_TRIES = 500


def machine() -> dict[str, object]:
    """What the figures were measured on, and how busy it was (load average at the start)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "load_average_1_5_15": [round(x, 2) for x in load],
    }


def _value(rng: random.Random, width: int) -> int:
    """A random value of ``width`` bits, often small or at an edge."""
    top = (1 << width) - 1
    roll = rng.random()
    if roll < 0.15:
        return rng.choice((0, 1, top, 1 << (width - 1)))
    if roll < 0.35:
        return rng.randint(0, min(top, 15))
    return rng.getrandbits(width)


def random_state(isa: ir.Isa, machine_: Interpreter, rng: random.Random) -> State:
    """Every register of a small file random (four of a large one), four random memory cells
    per memory; scalars repaired by z3 when the invariants do not hold (pdp10's ARL/APL)."""
    values: dict[str, object] = {}
    for c in isa.state:
        if c.count is None:
            values[c.name] = _value(rng, c.width)
        elif c.count <= 64:
            values[c.name] = [_value(rng, c.width) for _ in range(c.count)]
        else:  # x86's descriptor tables: a few registers, the rest 0
            values[c.name] = {rng.randrange(c.count): _value(rng, c.width) for _ in range(4)}
    for m in isa.memories:
        values[m.name] = {_value(rng, m.address_width): _value(rng, m.cell_width) for _ in range(4)}
    state = machine_.make_state(values)  # type: ignore[arg-type]
    if not machine_.invariants_hold(state):
        state = machine_.update(state, _repaired_scalars(isa, state))
    if not machine_.invariants_hold(state):
        raise SystemExit(f"{isa.name}: cannot build a state satisfying the invariants")
    return state


def _repaired_scalars(isa: ir.Isa, state: State) -> dict[str, Value]:
    """Scalars satisfying the invariants, as many as z3 can keep as drawn (workload
    generation only: the timed part never touches z3)."""
    import z3

    from analyzer.smt.encode import Encoder, fresh_state

    symbolic = fresh_state(isa, "s")
    pairs = []
    for c in isa.state:
        if c.count is not None:
            array = z3.K(z3.BitVecSort(c.index_width), z3.BitVecVal(0, c.width))
            registers = state.files[c.name]
            cells = (
                registers.items() if isinstance(registers, MemoryImage) else enumerate(registers)
            )
            for i, v in cells:
                array = z3.Store(array, z3.BitVecVal(i, c.index_width), z3.BitVecVal(v, c.width))
            pairs.append((symbolic[c.name], array))
    for m in isa.memories:
        array = z3.K(z3.BitVecSort(m.address_width), z3.BitVecVal(0, m.cell_width))
        for a, v in state.memories[m.name].items():
            array = z3.Store(array, z3.BitVecVal(a, m.address_width), z3.BitVecVal(v, m.cell_width))
        pairs.append((symbolic[m.name], array))
    opt = z3.Optimize()
    opt.add(z3.substitute(Encoder(isa).invariants(symbolic), *pairs))
    scalars = [c for c in isa.state if c.count is None]
    for c in scalars:
        opt.add_soft(symbolic[c.name] == z3.BitVecVal(state.scalars[c.name], c.width))
    if opt.check() != z3.sat:
        raise SystemExit(f"{isa.name}: the invariants are unsatisfiable")
    model = opt.model()
    return {c.name: model.eval(symbolic[c.name], model_completion=True).as_long() for c in scalars}


def _where_constants(instruction: ir.Instruction) -> list[int]:
    """The constants of the where clauses: narrow clauses (tbr == 268) are met by them."""
    return [e.value for w in instruction.where for e in ir.walk_expr(w) if isinstance(e, ir.Const)]


def random_operands(
    instruction: ir.Instruction, machine_: Interpreter, rng: random.Random
) -> dict[str, int] | None:
    """Operands satisfying the where clauses, or None if random search finds none."""
    constants = _where_constants(instruction)
    for attempt in range(OPERAND_TRIES):
        operands = {}
        for p in instruction.operands:
            if constants and attempt % 2:
                pick = rng.choice(constants) + rng.choice((0, 0, 0, 1, -1))
                operands[p.name] = pick % (1 << p.width)
            else:
                operands[p.name] = _value(rng, p.width)
        if machine_.operands_valid(instruction, operands):
            return operands
    return None


def workload(
    isa: ir.Isa, steps: int, seed: int
) -> tuple[list[tuple[State, str, dict[str, int]]], list[str]]:
    """``steps`` (state, instruction, operands) triples, and the instructions left out."""
    rng = random.Random(seed)
    machine_ = interpreter(isa)
    states = [random_state(isa, machine_, rng) for _ in range(STATES)]
    runnable: list[ir.Instruction] = []
    skipped: list[str] = []
    for instruction in isa.instructions:
        if instruction.unmodelled is not None:
            skipped.append(f"{instruction.name} (unmodelled)")
        elif random_operands(instruction, machine_, rng) is None:
            skipped.append(f"{instruction.name} (no valid operands found)")
        else:
            runnable.append(instruction)
    jobs = []
    for i in range(steps):
        instruction = runnable[i % len(runnable)]
        operands = random_operands(instruction, machine_, rng)
        assert operands is not None
        jobs.append((rng.choice(states), instruction.name, operands))
    rng.shuffle(jobs)
    return jobs, skipped


def timed_pass(machine_: Interpreter, jobs: list[tuple[State, str, dict[str, int]]]) -> float:
    """Seconds to step every job once."""
    step = machine_.step
    started = time.perf_counter()
    for state, name, operands in jobs:
        step(state, name, operands)
    return time.perf_counter() - started


def measure(spec: Path, steps: int, repeat: int, seed: int) -> dict[str, object]:
    """Throughput of one spec's workload: compile (first pass), then ``repeat`` timed passes."""
    isa = load_isa(spec)
    jobs, skipped = workload(isa, steps, seed)
    machine_ = interpreter(isa)
    compile_seconds = timed_pass(machine_, jobs)  # the first pass compiles every instruction
    traps = sum(1 for s, n, o in jobs if machine_.step(s, n, o).trapped)
    passes = [timed_pass(machine_, jobs) for _ in range(repeat)]
    best, median = min(passes), statistics.median(passes)
    return {
        "spec": spec.name,
        "instructions": len(isa.instructions),
        "instructions_run": len(isa.instructions) - len(skipped),
        "skipped": skipped,
        "steps": len(jobs),
        "trapped_fraction": round(traps / len(jobs), 3),
        "first_pass_seconds": round(compile_seconds, 4),
        "best_steps_per_second": round(len(jobs) / best),
        "median_steps_per_second": round(len(jobs) / median),
        "best_microseconds_per_step": round(best / len(jobs) * 1e6, 2),
    }


def _specs(names: list[str]) -> Iterator[Path]:
    if not names:
        yield from sorted((ROOT / "isa_specs").glob("*.isa"))
        return
    for name in names:
        path = Path(name)
        yield path if path.suffix == ".isa" else ROOT / "isa_specs" / f"{name}.isa"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", help="spec names or .isa paths (default: all)")
    parser.add_argument("--steps", type=int, default=20_000, help="steps per timed pass")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes per spec")
    parser.add_argument("--seed", type=int, default=1974)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    info = machine()
    rows = [measure(spec, args.steps, args.repeat, args.seed) for spec in _specs(args.specs)]
    header = (
        f"{'spec':<14}{'instrs':>8}{'trapped':>9}{'best steps/s':>14}{'median':>10}{'us/step':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['spec']:<14}{row['instructions_run']:>8}{row['trapped_fraction']:>9.1%}"
            f"{row['best_steps_per_second']:>14,}{row['median_steps_per_second']:>10,}"
            f"{row['best_microseconds_per_step']:>9}"
        )
        for skipped in row["skipped"]:  # type: ignore[attr-defined]
            print(f"    skipped {skipped}", file=sys.stderr)
    cores = info["cores"] or 1
    load = info["load_average_1_5_15"][0]  # type: ignore[index]
    noisy = load > 0.5 * cores  # type: ignore[operator]
    if noisy:
        print(
            f"warning: load average {load} on {cores} cores at the start: the figures are noisy",
            file=sys.stderr,
        )
    result = {
        "benchmark": "interp_throughput",
        "command": "python3 benchmarks/interp_throughput.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": info,
        "noisy": noisy,
        "settings": {"steps": args.steps, "repeat": args.repeat, "seed": args.seed},
        "results": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"wrote {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
