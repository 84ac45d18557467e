"""Graphs of an ISA: which instructions read and write which state, and how the mode changes.

``state_flow_graph`` is read off the IR alone. ``mode_transition_graph`` combines the IR (which
instructions write a mode component: a transition they *may* make) with the analysis (a
control-sensitivity witness whose pre- and post-state lie in different modes: a transition
*shown* to happen without trapping). Both render as Mermaid text and as a deterministic SVG
(fixed layout, sorted nodes, no randomness: the same graph gives the same bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from html import escape
from itertools import product
from typing import Any

import networkx as nx  # type: ignore[import-untyped,unused-ignore]

from analyzer import ir
from analyzer.results import Analysis, Finding, InstructionResult, StateView, Verdict

SUPERVISOR = "supervisor"
USER = "user"
OTHER = "other mode"
"""A state in neither the supervisor nor the user mode (some ISAs have intermediate levels)."""

SHOWN = "shown"
MAY = "may"
TRAP = "trap"

_KIND_ORDER = {"mode": 0, "control": 1, "timing": 2, "visible": 3, "memory": 4}
_DEFAULT_KINDS = frozenset({ir.Kind.MODE, ir.Kind.CONTROL, ir.Kind.TIMING})

# ---------------------------------------------------------------- reads and writes


@dataclass(slots=True)
class Access:
    """The state names a piece of code reads (in trap conditions or in effects) and writes."""

    trap_reads: set[str] = field(default_factory=set)
    effect_reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)

    @property
    def reads(self) -> set[str]:
        return self.trap_reads | self.effect_reads


class _AccessFinder:
    """Collects reads and writes of state components and memories; a call reads what the
    function's body reads, and an access through a translation reads what the translation
    reads (its fault conditions count as trap conditions)."""

    def __init__(self, isa: ir.Isa) -> None:
        self.isa = isa
        self._functions: dict[str, set[str]] = {}
        self._memories = {m.name: m for m in isa.memories}

    def expr_reads(self, expr: ir.Expr, trap_reads: set[str], effect_reads: set[str]) -> None:
        for sub in ir.walk_expr(expr):
            match sub:
                case ir.StateRead(name=name) | ir.FileRead(name=name):
                    effect_reads.add(name)
                case ir.MemRead(memory=memory, physical=physical):
                    effect_reads.add(memory)
                    if not physical:
                        self._translation_reads(memory, trap_reads, effect_reads)
                case ir.Call(function=function):
                    effect_reads |= self._function_reads(function)

    def _translation_reads(self, memory: str, trap_reads: set[str], effect_reads: set[str]) -> None:
        translation = self._memories[memory].translation
        if translation is None:
            return
        for fault in translation.faults:
            self.expr_reads(fault, trap_reads, trap_reads)
        self.expr_reads(translation.to, trap_reads, effect_reads)

    def _function_reads(self, name: str) -> set[str]:
        if name not in self._functions:
            self._functions[name] = set()  # a recursive call adds nothing new
            found: set[str] = set()
            self.expr_reads(self.isa.function(name).body, found, found)
            self._functions[name] = found
        return self._functions[name]

    def body_access(self, body: tuple[ir.Stmt, ...], where: Iterable[ir.Expr] = ()) -> Access:
        access = Access()
        for condition in where:
            self.expr_reads(condition, access.trap_reads, access.trap_reads)
        for stmt in ir.walk_stmts(body):
            in_trap = isinstance(stmt, ir.Trap)
            for expr in ir.stmt_exprs(stmt):
                if in_trap:
                    self.expr_reads(expr, access.trap_reads, access.trap_reads)
                else:
                    self.expr_reads(expr, access.trap_reads, access.effect_reads)
            if isinstance(stmt, ir.Assign):
                match stmt.target:
                    case ir.StateTarget(name=name) | ir.FileTarget(name=name):
                        access.writes.add(name)
                    case ir.MemTarget(memory=memory, physical=physical):
                        access.writes.add(memory)
                        if not physical:
                            self._translation_reads(memory, access.trap_reads, access.effect_reads)
        return access


def instruction_access(isa: ir.Isa, instruction: ir.Instruction) -> Access:
    """What ``instruction`` reads (trap conditions and effects) and writes, by name."""
    return _AccessFinder(isa).body_access(instruction.body, instruction.where)


def handler_access(isa: ir.Isa, handler: ir.Handler) -> Access:
    """What a trap handler reads and writes, by name."""
    return _AccessFinder(isa).body_access(handler.body)


def expression_reads(isa: ir.Isa, expr: ir.Expr) -> set[str]:
    """The state names an expression (a predicate, an invariant) reads, by name."""
    found: set[str] = set()
    _AccessFinder(isa).expr_reads(expr, found, found)
    return found


def instruction_node(name: str) -> str:
    """The node of instruction ``name`` in the state-flow graph."""
    return f"instruction:{name}"


def component_node(name: str) -> str:
    """The node of state component (or memory) ``name`` in the state-flow graph."""
    return f"state:{name}"


def handler_node(kind: ir.TrapKind | None) -> str:
    """The node of the trap handler for ``kind`` (None: the default handler)."""
    return f"handler:{'any' if kind is None else kind.value}"


def state_flow_graph(
    isa: ir.Isa,
    kinds: Iterable[ir.Kind] = _DEFAULT_KINDS,
    *,
    handlers: bool = True,
) -> nx.DiGraph:
    """The bipartite read/write graph of ``isa`` as an ``nx.DiGraph``.

    Nodes are instructions (``kind="instruction"``, with ``name``, ``mnemonic``, ``form``),
    trap handlers (``kind="handler"``, when ``handlers``) and the state components of the given
    kinds (``kind="component"``, with ``name``, ``state_kind``, ``width``; memories count as
    visible). An edge component -> instruction means the instruction reads the component, in
    its trap conditions (``in_trap``) or its effects (``in_effect``); instruction -> component
    means it writes it. Every node has an ``order`` that sorts it into spec order.
    """
    wanted = set(kinds)
    graph = nx.DiGraph(name=f"state flow of {isa.name}")
    shown: dict[str, str] = {}
    for order, component in enumerate(isa.state):
        if component.kind in wanted:
            node = component_node(component.name)
            shown[component.name] = node
            graph.add_node(
                node,
                kind="component",
                name=component.name,
                label=component.name if component.count is None else f"{component.name}[]",
                state_kind=component.kind.value,
                width=component.width,
                order=(1, _KIND_ORDER[component.kind.value], order),
            )
    if ir.Kind.VISIBLE in wanted:
        for order, memory in enumerate(isa.memories):
            node = component_node(memory.name)
            shown[memory.name] = node
            graph.add_node(
                node,
                kind="component",
                name=memory.name,
                label=f"{memory.name}[]",
                state_kind="memory",
                width=memory.cell_width,
                order=(1, _KIND_ORDER["memory"], order),
            )
    finder = _AccessFinder(isa)
    code: list[tuple[str, Access]] = []
    for order, instruction in enumerate(isa.instructions):
        node = instruction_node(instruction.name)
        graph.add_node(
            node,
            kind="instruction",
            name=instruction.name,
            mnemonic=instruction.mnemonic,
            form=instruction.form,
            label=instruction.form,
            order=(0, 0, order),
        )
        code.append((node, finder.body_access(instruction.body, instruction.where)))
    if handlers:
        for order, handler in enumerate(isa.handlers):
            node = handler_node(handler.kind)
            what = "any" if handler.kind is None else handler.kind.value
            graph.add_node(
                node,
                kind="handler",
                name=what,
                mnemonic="trap",
                form=f"trap ({what})",
                label=f"trap ({what})",
                order=(0, 1, order),
            )
            code.append((node, finder.body_access(handler.body)))
    for node, access in code:
        for name in sorted(access.reads):
            if name in shown:
                graph.add_edge(
                    shown[name],
                    node,
                    access="read",
                    in_trap=name in access.trap_reads,
                    in_effect=name in access.effect_reads,
                )
        for name in sorted(access.writes):
            if name in shown:
                graph.add_edge(node, shown[name], access="write")
    return graph


def reads_of(graph: Any, instruction: str) -> list[str]:
    """The component names ``instruction`` reads in a state-flow graph, sorted."""
    node = instruction_node(instruction)
    return sorted(graph.nodes[u]["name"] for u in graph.predecessors(node))


def writes_of(graph: Any, instruction: str) -> list[str]:
    """The component names ``instruction`` writes in a state-flow graph, sorted."""
    node = instruction_node(instruction)
    return sorted(graph.nodes[v]["name"] for v in graph.successors(node))


# ---------------------------------------------------------------- modes


def _ones(width: int) -> int:
    """All bits of a value of ``width`` (a boolean counts as one bit)."""
    return (1 << max(width, 1)) - 1


def _signed(value: int, width: int) -> int:
    return value - (1 << width) if width and value >> (width - 1) else value


_ARITH: dict[str, Callable[[int, int, int], int]] = {
    "+": lambda a, b, w: a + b,
    "-": lambda a, b, w: a - b,
    "*": lambda a, b, w: a * b,
    "<<": lambda a, b, w: a << b if b < w else 0,
    ">>": lambda a, b, w: a >> b,
    "udiv": lambda a, b, w: a // b if b else _ones(w),
    "urem": lambda a, b, w: a % b if b else a,
}
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "slt": lambda a, b: a < b,
    "sle": lambda a, b: a <= b,
    "sgt": lambda a, b: a > b,
    "sge": lambda a, b: a >= b,
}

Bits = tuple[int, int]
"""A partly known value: (value, mask of the bits known); unknown bits of value are 0."""


def _known(value: int, width: int) -> Bits:
    return value & _ones(width), _ones(width)


class _Env:
    """What a partial evaluation knows: state entries, local names, and the functions."""

    def __init__(
        self, values: Mapping[str, int], isa: ir.Isa | None, local: Mapping[str, Bits] | None
    ) -> None:
        self.values = values
        self.isa = isa
        self.local = dict(local or {})
        self.depth = 0

    def bind(self, local: Mapping[str, Bits]) -> _Env:
        env = _Env(self.values, self.isa, local)
        env.depth = self.depth + 1
        return env


def _bits(expr: ir.Expr, env: _Env) -> Bits:
    """The bits of ``expr`` that the environment decides (bitwise three-valued evaluation)."""
    values = env.values
    w = expr.width
    full = _ones(w)
    match expr:
        case ir.Const(value=value):
            return _known(value, w)
        case ir.BoolConst(value=value):
            return _known(int(value), w)
        case ir.StateRead(name=name):
            v = values.get(name)
            return (0, 0) if v is None else _known(v, w)
        case ir.FileRead(name=name, index=ir.Const(value=index)):
            v = values.get(f"{name}[{index}]")
            return (0, 0) if v is None else _known(v, w)
        case ir.Unary(op=op, operand=operand):
            v, k = _bits(operand, env)
            if op in ("~", "not"):
                return ~v & k, k
            return _known(-v, w) if k == full else (0, 0)
        case ir.Binary(op=op, left=left, right=right):
            (a, ka), (b, kb) = _bits(left, env), _bits(right, env)
            if op in ("&", "and"):
                k = (ka & kb) | (ka & ~a) | (kb & ~b)
                return a & b & k, k & full
            if op in ("|", "or"):
                k = (ka & kb) | (ka & a) | (kb & b)
                return (a | b) & k, k & full
            if op == "^":
                return (a ^ b) & ka & kb, ka & kb
            if op == "*" and ((ka == full and a == 0) or (kb == full and b == 0)):
                return 0, full
            if op in _ARITH and ka == full and kb == full:
                return _known(_ARITH[op](a, b, w), w)
            return 0, 0
        case ir.Compare(op=op, left=left, right=right):
            (a, ka), (b, kb) = _bits(left, env), _bits(right, env)
            if ka != _ones(left.width) or kb != _ones(right.width):
                if op in ("==", "!=") and ka & kb & (a ^ b):
                    return _known(int(op == "!="), w)  # a known bit differs
                return 0, 0
            if op.startswith("s"):
                a, b = _signed(a, left.width), _signed(b, right.width)
            return _known(int(_COMPARE[op](a, b)), w)
        case ir.Ite(cond=cond, then=then, other=other):
            c, kc = _bits(cond, env)
            (a, ka), (b, kb) = _bits(then, env), _bits(other, env)
            if kc:
                return (a, ka) if c else (b, kb)
            k = ka & kb & ~(a ^ b)
            return a & k, k
        case ir.Extract(operand=operand, hi=hi, lo=lo):
            v, k = _bits(operand, env)
            m = _ones(hi - lo + 1)
            return (v >> lo) & m, (k >> lo) & m
        case ir.Concat(parts=parts):
            v = k = 0
            for part in parts:
                pv, pk = _bits(part, env)
                v, k = (v << part.width) | pv, (k << part.width) | pk
            return v, k
        case ir.Extend(signed=signed, operand=operand):
            v, k = _bits(operand, env)
            n = operand.width
            high = full & ~_ones(n)
            if not signed:
                return v, k | high
            if k >> (n - 1) & 1:
                return (v | high if v >> (n - 1) & 1 else v), k | high
            return v, k & _ones(n - 1)
        case ir.LocalRef(name=name):
            return env.local.get(name, (0, 0))
        case ir.Call(function=function, args=args) if env.isa is not None and env.depth < 16:
            called = env.isa.function(function)
            bound = {p.name: _bits(a, env) for p, a in zip(called.params, args, strict=True)}
            return _bits(called.body, env.bind(bound))
    return 0, 0


def evaluate(
    expr: ir.Expr,
    values: Mapping[str, int],
    isa: ir.Isa | None = None,
    local: Mapping[str, Bits] | None = None,
) -> int | None:
    """The value of an expression given some entries (``"X"`` for a scalar, ``"F[3]"`` for a
    register of a file), or None when it depends on anything not given (an operand, memory, a
    function, a local name). Bitwise three-valued: ``x | 1`` has bit 0 set and ``if c then 1
    else 1`` is 1, whatever x and c are. With ``isa``, calls evaluate the function's body;
    ``local`` gives known bits of local names."""
    value, known = _bits(expr, _Env(values, isa, local))
    return value if known == _ones(expr.width) else None


def mode_of(isa: ir.Isa, values: Mapping[str, int]) -> str | None:
    """``supervisor``, ``user`` or ``other mode`` for a state given by some of its entries;
    None when the entries shown do not decide it."""
    supervisor = evaluate(isa.predicate("supervisor"), values)
    user = evaluate(isa.predicate("user"), values)
    if supervisor:
        return SUPERVISOR
    if user:
        return USER
    if supervisor == 0 and user == 0:
        return OTHER
    return None


def _view_values(view: StateView) -> dict[str, int]:
    return {e.name: e.value for e in view.entries}


def _mode_assignments(isa: ir.Isa) -> list[dict[str, int]]:
    """Every assignment of values to the mode components (all scalar, 8 bits in all at most);
    empty when there are too many to enumerate."""
    modes = isa.of_kind(ir.Kind.MODE)
    if any(c.count is not None for c in modes) or sum(c.width for c in modes) > 8:
        return []
    names = [c.name for c in modes]
    ranges = [range(1 << c.width) for c in modes]
    return [dict(zip(names, values, strict=True)) for values in product(*ranges)]


def _reachable_modes(
    isa: ir.Isa,
    body: tuple[ir.Stmt, ...],
    values: dict[str, int],
    pre: str,
    local: dict[str, Bits] | None = None,
) -> tuple[bool, set[str]]:
    """Walk ``body`` from a state whose mode components have ``values`` (only those known):
    (whether it surely traps, the modes other than ``pre`` its mode assignments may set).
    A trap or branch condition decided by the mode alone prunes the walk."""
    local = dict(local or {})
    changes: set[str] = set()
    mode_names = {c.name for c in isa.of_kind(ir.Kind.MODE)}
    for stmt in body:
        match stmt:
            case ir.Let(name=name, value=value):
                local[name] = _bits(value, _Env(values, isa, local))
            case ir.Trap(when=when):
                if when is None or evaluate(when, values, isa, local) == 1:
                    return True, set()
            case ir.If(cond=cond, then=then, other=other):
                c = evaluate(cond, values, isa, local)
                branches = [b for b, taken in ((then, 1), (other, 0)) if c is None or c == taken]
                walked = [_reachable_modes(isa, b, values, pre, local) for b in branches]
                if all(traps for traps, _ in walked):
                    return True, set()
                for _, found in walked:
                    changes |= found
            case ir.Assign(target=ir.StateTarget(name=name), value=value) if name in mode_names:
                v = evaluate(value, values, isa, local)
                post = None if v is None else mode_of(isa, {**values, name: v})
                changes |= {SUPERVISOR, USER} if post is None else {post}
            case ir.Assign(target=ir.FileTarget(name=name)) if name in mode_names:
                changes |= {SUPERVISOR, USER}
    return False, changes - {pre}


def ir_mode_changes(isa: ir.Isa, instruction: ir.Instruction, pre: str) -> set[str]:
    """The modes (supervisor, user) the IR lets ``instruction`` move to from mode ``pre``
    without trapping: an over-approximation, pruned only where the mode alone decides a trap,
    a branch or the value assigned."""
    mode_names = {c.name for c in isa.of_kind(ir.Kind.MODE)}
    if not instruction_access(isa, instruction).writes & mode_names:
        return set()
    found: set[str] = set()
    candidates = [v for v in _mode_assignments(isa) if mode_of(isa, v) == pre]
    if not _mode_assignments(isa):
        candidates = [{}]  # nothing known about the mode: prune nothing
    for values in candidates:
        traps, changes = _reachable_modes(isa, instruction.body, values, pre)
        if not traps:
            found |= changes
    return found & {SUPERVISOR, USER}


def _witnessed(isa: ir.Isa, finding: Finding) -> tuple[str, str] | None:
    """(pre-mode, post-mode) of a proved control-sensitivity witness, if it decides both."""
    witness = finding.witness
    if finding.verdict is not Verdict.PROVED or witness is None or len(witness.states) != 2:
        return None
    before, after = witness.states
    pre = mode_of(isa, _view_values(before))
    post = mode_of(isa, _view_values(after))
    if pre is None or post is None:
        return None
    return pre, post


def _transitions(
    isa: ir.Isa, instruction: ir.Instruction, result: InstructionResult
) -> Iterator[tuple[str, str, str, str]]:
    """(from, to, status, evidence) for each mode change of one instruction form."""
    shown: dict[tuple[str, str], str] = {}
    for prop in ("control_sensitive", "user_control_sensitive"):
        finding: Finding = getattr(result, prop)
        pair = _witnessed(isa, finding)
        if pair is not None and pair[0] != pair[1] and pair not in shown:
            shown[pair] = f"{prop.replace('_', ' ')} witness: {pair[0]} before, {pair[1]} after"
    for (pre, post), evidence in sorted(shown.items()):
        yield pre, post, SHOWN, evidence
    if (
        result.unmodelled is not None
        or result.always_traps.verdict is Verdict.PROVED
        or result.control_sensitive.verdict is Verdict.REFUTED
    ):
        return
    for pre, post in ((SUPERVISOR, USER), (USER, SUPERVISOR)):
        if (pre, post) in shown or post not in ir_mode_changes(isa, instruction, pre):
            continue
        if pre == USER and result.user_control_sensitive.verdict is Verdict.REFUTED:
            continue  # proved: never changes control state from user mode without trapping
        yield pre, post, MAY, "writes a mode component; no witness shows this transition"


def _handler_evidence(isa: ir.Isa) -> str:
    mode_names = {c.name for c in isa.of_kind(ir.Kind.MODE)}
    targets: set[str] = set()
    for handler in isa.handlers:
        for stmt in ir.walk_stmts(handler.body):
            if (
                isinstance(stmt, ir.Assign)
                and isinstance(stmt.target, ir.StateTarget)
                and stmt.target.name in mode_names
            ):
                value = evaluate(stmt.value, {})
                mode = None if value is None else mode_of(isa, {stmt.target.name: value})
                targets.add(mode or "loaded by the handler")
    if targets == {SUPERVISOR}:
        return "every trap runs the handler, which sets supervisor mode"
    if targets:
        return (
            "every trap runs the handler, which loads the new mode "
            "(P&G: from the new state the supervisor stored)"
        )
    return "every trap runs the handler"


def mode_transition_graph(isa: ir.Isa, analysis: Analysis) -> nx.MultiDiGraph:
    """How the mode changes, as an ``nx.MultiDiGraph`` (a kind of ``nx.DiGraph``).

    Nodes ``supervisor`` and ``user`` (and ``other mode`` if a witness reaches a state in
    neither). Each edge is keyed by the instruction's name, with ``kind="instruction"``,
    ``mnemonic``, ``form``, ``status`` (``shown``: a control-sensitivity witness runs from one
    mode to the other without trapping; ``may``: the instruction writes a mode component and
    nothing proves it cannot, but no witness shows it) and ``evidence``. The edge keyed
    ``trap`` (``kind="trap"``, ``status="trap"``) is user -> supervisor: traps enter the
    handler.
    """
    graph = nx.MultiDiGraph(name=f"mode transitions of {isa.name}")
    graph.add_node(SUPERVISOR, kind="mode", label=SUPERVISOR, order=0)
    graph.add_node(USER, kind="mode", label=USER, order=1)
    by_name = {i.name: i for i in isa.instructions}
    for result in analysis.instructions:
        instruction = by_name.get(result.name)
        if instruction is None:
            continue
        for pre, post, status, evidence in _transitions(isa, instruction, result):
            for node in (pre, post):
                if node not in graph:
                    graph.add_node(node, kind="mode", label=node, order=2)
            graph.add_edge(
                pre,
                post,
                key=result.name,
                kind="instruction",
                name=result.name,
                mnemonic=result.mnemonic,
                form=result.form,
                status=status,
                evidence=evidence,
            )
    if isa.handlers:
        graph.add_edge(
            USER,
            SUPERVISOR,
            key=TRAP,
            kind="trap",
            name=TRAP,
            mnemonic="trap",
            form="trap",
            status=TRAP,
            evidence=_handler_evidence(isa),
        )
    return graph


# ---------------------------------------------------------------- Mermaid


def _sorted_nodes(graph: Any) -> list[str]:
    return sorted(graph.nodes, key=lambda n: (graph.nodes[n]["order"], n))


def _mermaid_label(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def state_flow_mermaid(graph: Any) -> str:
    """A state-flow graph as a Mermaid flowchart: instructions left, components right;
    solid arrows are writes, dotted arrows reads. Instructions with no edge are left out."""
    nodes = [n for n in _sorted_nodes(graph) if graph.degree(n)]
    ids = {n: f"n{k}" for k, n in enumerate(nodes)}
    lines = ["flowchart LR"]
    for node in nodes:
        data = graph.nodes[node]
        label = _mermaid_label(data["label"])
        if data["kind"] == "component":
            lines.append(f'  {ids[node]}[("{label} ({data["state_kind"]})")]')
        else:
            lines.append(f'  {ids[node]}["{label}"]')
    for u, v in _sorted_edges(graph, nodes):
        arrow = "-->" if graph.edges[u, v]["access"] == "write" else "-.->"
        lines.append(f"  {ids[u]} {arrow} {ids[v]}")
    return "\n".join(lines) + "\n"


def _sorted_edges(graph: Any, nodes: list[str]) -> list[tuple[str, str]]:
    rank = {n: k for k, n in enumerate(nodes)}
    return sorted(graph.edges, key=lambda e: (rank[e[0]], rank[e[1]]))


def _transition_groups(graph: Any) -> list[tuple[str, str, str, list[str]]]:
    """(from, to, status, mnemonics) per edge group, in a fixed order."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for u, v, data in graph.edges(data=True):
        names = groups.setdefault((u, v, data["status"]), [])
        if data["mnemonic"] not in names:
            names.append(data["mnemonic"])
    status_rank = {SHOWN: 0, MAY: 1, TRAP: 2}
    order = {n: graph.nodes[n]["order"] for n in graph.nodes}
    return [
        (u, v, s, sorted(names))
        for (u, v, s), names in sorted(
            groups.items(), key=lambda i: (order[i[0][0]], order[i[0][1]], status_rank[i[0][2]])
        )
    ]


def mode_transition_mermaid(graph: Any) -> str:
    """A mode-transition graph as a Mermaid state diagram: one arrow per (from, to, status),
    labelled with the mnemonics."""
    ids = {n: f"m{k}" for k, n in enumerate(_sorted_nodes(graph))}
    lines = ["stateDiagram-v2"]
    for node, ident in ids.items():
        lines.append(f'  state "{_mermaid_label(node)}" as {ident}')
    for u, v, status, names in _transition_groups(graph):
        label = "trap" if status == TRAP else f"{', '.join(names)} ({status})"
        lines.append(f"  {ids[u]} --> {ids[v]}: {_mermaid_label(label).replace(':', ' ')}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- SVG

_FONT = "font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px"
_KIND_FILL = {
    "mode": "#f4cccc",
    "control": "#fce5cd",
    "timing": "#d9ead3",
    "visible": "#eeeeee",
    "memory": "#eeeeee",
}


def _text_width(text: str) -> int:
    return (15 * len(text)) // 2 + 16


def state_flow_svg(graph: Any) -> str:
    """A state-flow graph as an SVG: instructions (and handlers) in the left column,
    components in the right, writes as solid red arrows, reads as dashed blue ones."""
    nodes = [n for n in _sorted_nodes(graph) if graph.degree(n)]
    left = [n for n in nodes if graph.nodes[n]["kind"] != "component"]
    right = [n for n in nodes if graph.nodes[n]["kind"] == "component"]
    row = 26
    top = 40
    left_w = max([_text_width(graph.nodes[n]["label"]) for n in left] + [80])
    right_w = max([_text_width(_component_text(graph, n)) for n in right] + [140])
    gap = 260
    x_left, x_right = 10, 10 + left_w + gap
    legend = "red: writes; dashed blue: reads (trap condition or effect)"
    width = max(x_right + right_w + 10, x_left + _text_width(legend))
    height = top + row * max(len(left), len(right), 1) + 30
    y: dict[str, int] = {}
    for k, n in enumerate(left):
        y[n] = top + row * k
    for k, n in enumerate(right):
        y[n] = top + row * k
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" data-graph="state-flow" '
        f'aria-label="state flow: instructions and the state they read and write">',
        "<defs>"
        '<marker id="sf-w" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#b03030"/></marker>'
        '<marker id="sf-r" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#3060b0"/></marker>'
        "</defs>",
        f'<text x="{x_left}" y="20" style="{_FONT};font-weight:bold">instruction</text>',
        f'<text x="{x_right}" y="20" style="{_FONT};font-weight:bold">state component</text>',
    ]
    lx, rx = x_left + left_w, x_right
    for u, v in _sorted_edges(graph, nodes):
        if graph.edges[u, v]["access"] == "write":
            y1, y2 = y[u] + 8, y[v] + 8
            out.append(
                f'<path d="M{lx},{y1} C{lx + gap // 2},{y1} {rx - gap // 2},{y2} {rx},{y2}" '
                f'fill="none" stroke="#b03030" stroke-width="1.2" marker-end="url(#sf-w)" '
                f'data-edge="write" data-from="{escape(u)}" data-to="{escape(v)}"/>'
            )
        else:
            y1, y2 = y[u] + 14, y[v] + 14
            out.append(
                f'<path d="M{rx},{y1} C{rx - gap // 2},{y1} {lx + gap // 2},{y2} {lx},{y2}" '
                f'fill="none" stroke="#3060b0" stroke-width="1" stroke-dasharray="4 3" '
                f'marker-end="url(#sf-r)" data-edge="read" '
                f'data-from="{escape(u)}" data-to="{escape(v)}"/>'
            )
    for n in left:
        data = graph.nodes[n]
        fill = "#ffffff" if data["kind"] == "instruction" else "#e8e0f0"
        out.append(
            f'<g data-node="{escape(n)}"><rect x="{x_left}" y="{y[n]}" width="{left_w}" '
            f'height="20" rx="4" fill="{fill}" stroke="#555"/>'
            f'<text x="{x_left + 8}" y="{y[n] + 14}" style="{_FONT}">'
            f"{escape(data['label'])}</text></g>"
        )
    for n in right:
        data = graph.nodes[n]
        out.append(
            f'<g data-node="{escape(n)}"><rect x="{x_right}" y="{y[n]}" width="{right_w}" '
            f'height="20" rx="10" fill="{_KIND_FILL[data["state_kind"]]}" stroke="#555"/>'
            f'<text x="{x_right + 8}" y="{y[n] + 14}" style="{_FONT}">'
            f"{escape(_component_text(graph, n))}</text></g>"
        )
    legend_y = height - 10
    out.append(
        f'<text x="{x_left}" y="{legend_y}" style="{_FONT}" fill="#555">{escape(legend)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _component_text(graph: Any, node: str) -> str:
    data = graph.nodes[node]
    return f"{data['label']} ({data['state_kind']})"


def _wrap(names: list[str], per_line: int) -> list[str]:
    return [", ".join(names[k : k + per_line]) for k in range(0, len(names), per_line)]


def mode_transition_svg(graph: Any) -> str:
    """A mode-transition graph as an SVG: the modes on a line, arcs to the right above it and
    arcs to the left below it, each labelled beyond its apex; solid for shown, dashed for may,
    dotted for traps."""
    nodes = _sorted_nodes(graph)
    spacing, radius, line = 380, 48, 15
    cx = {n: 150 + spacing * k for k, n in enumerate(nodes)}
    width = 300 + spacing * (len(nodes) - 1)
    # Each arc's apex lies beyond the previous arc's label, on its side of the line.
    placed = []
    reach = {True: radius + 24, False: radius + 24}
    for u, v, status, names in _transition_groups(graph):
        upward = cx[u] < cx[v]
        title = "trap (enters the handler)" if status == TRAP else f"{status}:"
        lines = [title] if status == TRAP else [title, *_wrap(names, 6)]
        placed.append((u, v, status, names, upward, reach[upward], lines))
        reach[upward] += line * len(lines) + 26
    cy = reach[True] + 10
    height = cy + reach[False] + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" data-graph="mode-transitions" '
        f'aria-label="mode transitions">',
        "<defs>"
        '<marker id="mt-a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto"><path d="M0,0L10,5L0,10z" fill="#333"/></marker>'
        "</defs>",
    ]
    style = {
        SHOWN: 'stroke="#b03030" stroke-width="2"',
        MAY: 'stroke="#b07000" stroke-width="1.5" stroke-dasharray="7 4"',
        TRAP: 'stroke="#3060b0" stroke-width="1.5" stroke-dasharray="2 3"',
    }
    for u, v, status, names, upward, apex, lines in placed:
        sign = -1 if upward else 1
        edge = radius * 7 // 10
        sx, ex = cx[u] + (edge if upward else -edge), cx[v] - (edge if upward else -edge)
        y1 = cy + sign * edge
        # A cubic with both control points at height c peaks at y1 + 3/4 (c - y1).
        ctrl = y1 + sign * ((apex - edge) * 4 // 3)
        out.append(
            f'<path d="M{sx},{y1} C{sx},{ctrl} {ex},{ctrl} {ex},{y1}" fill="none" '
            f'{style[status]} marker-end="url(#mt-a)" data-edge="{escape(status)}" '
            f'data-from="{escape(u)}" data-to="{escape(v)}" '
            f'data-mnemonics="{escape(" ".join(names))}"/>'
        )
        mid = (cx[u] + cx[v]) // 2
        first = cy - apex - 8 - line * (len(lines) - 1) if upward else cy + apex + 18
        for j, text in enumerate(lines):
            weight = ";font-weight:bold" if j == 0 else ""
            out.append(
                f'<text x="{mid}" y="{first + line * j}" text-anchor="middle" '
                f'style="{_FONT}{weight}">{escape(text)}</text>'
            )
    fills = {SUPERVISOR: "#f4cccc", USER: "#d9e4f5", OTHER: "#eeeeee"}
    for n in nodes:
        out.append(
            f'<g data-node="{escape(n)}"><circle cx="{cx[n]}" cy="{cy}" r="{radius}" '
            f'fill="{fills.get(n, "#eeeeee")}" stroke="#333" stroke-width="1.5"/>'
            f'<text x="{cx[n]}" y="{cy + 5}" text-anchor="middle" '
            f'style="{_FONT};font-size:14px;font-weight:bold">{escape(n)}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
