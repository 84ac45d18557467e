"""IR to canonical spec text: parsing the output gives back an equal IR.

Families come out expanded, predicates inlined, literals sized and every operator
parenthesised, so the text is a normal form of the spec (used for content hashes).
"""

from __future__ import annotations

from analyzer import ir

_INFIX = {
    "+",
    "-",
    "*",
    "&",
    "|",
    "^",
    "<<",
    ">>",
    ">>>",
    "and",
    "or",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
}


def pretty(isa: ir.Isa) -> str:
    """The whole ISA as spec text."""
    out = [f"isa {isa.name} {_str(isa.title)}"]
    out += [f"manual {_str(m)}" for m in isa.manuals]
    out += [_state(c) for c in isa.state]
    out += [_memory(m) for m in isa.memories]
    out += [f"predicate {p.name} = {expr(p.body)}" for p in isa.predicates]
    out += [f"invariant {expr(e)}" for e in isa.invariants]
    out += [_function(f) for f in isa.functions]
    out += [_handler(h) for h in isa.handlers]
    if isa.settable:
        out.append("vmm sets " + ", ".join(f.label for f in isa.settable))
    if isa.pc is not None:
        out.append(f"pc {isa.pc}")
    out += [_instruction(i) for i in isa.instructions]
    return "\n".join(out) + "\n"


def _str(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _state(c: ir.StateComponent) -> str:
    count = f"[{c.count}]" if c.count is not None else ""
    flags = (" mapping" if c.mapping else "") + (" readonly" if c.readonly else "")
    return f"state {c.name} : bits({c.width}){count} {c.kind.value}{flags}"


def _memory(m: ir.Memory) -> str:
    text = f"memory {m.name} : bits({m.cell_width})[bits({m.address_width})] {m.endian}"
    t = m.translation
    if t is not None:
        faults = " ".join(f"fault when {expr(f)}" for f in t.faults)
        text += f" translate({t.param}) {{ {faults} to {expr(t.to)} }}"
    return text


def _type(width: int) -> str:
    return "bool" if width == ir.BOOL else f"bits({width})"


def _function(f: ir.Function) -> str:
    params = ", ".join(f"{p.name}: {_type(p.width)}" for p in f.params)
    opaque = "opaque " if f.opaque else ""
    return f"{opaque}def {f.name}({params}) : {_type(f.width)} = {expr(f.body)}"


def _handler(h: ir.Handler) -> str:
    kind = f"{h.kind.value} " if h.kind else ""
    return f"on trap {kind}({h.vector.name}: bits({h.vector.width})) {_block(h.body, 0)}"


def _instruction(i: ir.Instruction) -> str:
    operands = ""
    if i.operands:
        operands = "(" + ", ".join(f"{p.name}: bits({p.width})" for p in i.operands) + ")"
    clauses = f" mnemonic {_str(i.mnemonic)} form {_str(i.form)} cite {_str(i.cite)}"
    clauses += "".join(f" where {expr(w)}" for w in i.where)
    return f"instruction {i.name}{operands}{clauses} {_block(i.body, 0)}"


def _block(body: tuple[ir.Stmt, ...], depth: int) -> str:
    if not body:
        return "{ }"
    pad = "  " * (depth + 1)
    lines = [pad + stmt(s, depth + 1) for s in body]
    return "{\n" + "\n".join(lines) + "\n" + "  " * depth + "}"


def stmt(s: ir.Stmt, depth: int = 0) -> str:
    """One statement as spec text."""
    match s:
        case ir.Assign(target=target, value=value):
            return f"{_target(target)} := {expr(value)}"
        case ir.If(cond=cond, then=then, other=other):
            text = f"if {expr(cond)} {_block(then, depth)}"
            return text + (f" else {_block(other, depth)}" if other else "")
        case ir.Trap(kind=kind, vector=vector, when=when):
            text = f"trap {kind.value}"
            if vector is not None:
                text += f" vector {expr(vector)}"
            if when is not None:
                text += f" when {expr(when)}"
            return text
        case ir.Let(name=name, value=value):
            return f"let {name} = {expr(value)}"
        case ir.Unmodelled(reason=reason):
            return f"unmodelled {_str(reason)}"
    raise AssertionError(f"unhandled statement {s!r}")


def _target(t: ir.Target) -> str:
    match t:
        case ir.StateTarget(name=name):
            return name
        case ir.FileTarget(name=name, index=index):
            return f"{name}[{expr(index)}]"
        case ir.MemTarget(memory=name, address=address, cells=cells, physical=physical):
            return _memref(name, address, cells, physical)
    raise AssertionError(f"unhandled target {t!r}")


def _memref(name: str, address: ir.Expr, cells: int, physical: bool) -> str:
    count = f", {cells}" if cells != 1 else ""
    return f"{'physical ' if physical else ''}{name}[{expr(address)}{count}]"


def expr(e: ir.Expr) -> str:
    """One expression as spec text, fully parenthesised."""
    match e:
        case ir.Const(value=value, width=width):
            return f"{width}'h{value:x}"
        case ir.BoolConst(value=value):
            return "true" if value else "false"
        case ir.StateRead(name=name) | ir.OperandRef(name=name) | ir.LocalRef(name=name):
            return name
        case ir.FileRead(name=name, index=index):
            return f"{name}[{expr(index)}]"
        case ir.MemRead(memory=name, address=address, cells=cells, physical=physical):
            text = _memref(name, address, cells, physical)
            return f"({text})" if physical else text
        case ir.Unary(op=op, operand=operand):
            space = " " if op == "not" else ""
            return f"({op}{space}{expr(operand)})"
        case ir.Binary(op=op, left=left, right=right) | ir.Compare(op=op, left=left, right=right):
            if op in _INFIX:
                return f"({expr(left)} {op} {expr(right)})"
            return f"{op}({expr(left)}, {expr(right)})"
        case ir.Ite(cond=cond, then=then, other=other):
            return f"(if {expr(cond)} then {expr(then)} else {expr(other)})"
        case ir.Extract(operand=operand, hi=hi, lo=lo):
            return f"({expr(operand)})[{hi}:{lo}]"
        case ir.Concat(parts=parts):
            return "concat(" + ", ".join(expr(p) for p in parts) + ")"
        case ir.Extend(signed=signed, operand=operand, width=width):
            return f"{'sext' if signed else 'zext'}({expr(operand)}, {width})"
        case ir.Call(function=function, args=args):
            return f"{function}(" + ", ".join(expr(a) for a in args) + ")"
    raise AssertionError(f"unhandled expression {e!r}")
