"""Syntax tree to typed IR, with every static check of MODEL.md section 5.

Loading a spec means: read the file, parse it, merge it onto its base when it ``extends`` one,
resolve every name, infer and check every width, expand families, and reject what cannot be
analysed (writes to undeclared or read-only state, a component assigned twice on one path,
missing predicates). Problems are collected and raised together as one :class:`SpecError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from analyzer import ir
from analyzer import syntax as s
from analyzer.errors import Diagnostic, Span, SpecError, suggest
from analyzer.parse import parse_spec

BUILTINS = (
    "zext",
    "sext",
    "concat",
    "slt",
    "sle",
    "sgt",
    "sge",
    "udiv",
    "urem",
    "sdiv",
    "srem",
    "rotl",
    "rotr",
)
REQUIRED_PREDICATES = ("supervisor", "user")
USUAL_PC_NAMES = ("PC", "P", "IA", "CIA", "NIA", "EIP", "IP")
MAX_WIDTH = 4096


class _Fail(Exception):
    """Abandons the current statement or declaration after its diagnostic was recorded."""


@dataclass(frozen=True, slots=True)
class _Lit:
    """An integer literal whose width comes from its context."""

    value: int
    span: Span


# ---------------------------------------------------------------- loading


def load_isa(path: str | os.PathLike[str]) -> ir.Isa:
    """Read, parse and validate the spec at ``path`` (following ``extends``)."""
    sources: dict[str, str] = {}
    spec, decls = _load_merged(Path(path), sources, chain=())
    return _Elaborator(spec, decls, sources).run()


def load_isa_text(text: str, filename: str = "<spec>") -> ir.Isa:
    """Parse and validate spec text; ``extends`` paths are relative to the current directory."""
    sources = {filename: text}
    spec = parse_spec(text, filename)
    decls = _merge_base(spec, Path(filename).parent, sources, chain=(filename,))
    return _Elaborator(spec, decls, sources).run()


def _read(path: Path, sources: dict[str, str], span: Span | None) -> str:
    name = _display(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _error_at(span, name, "no such spec file", sources) from None
    except IsADirectoryError:
        raise _error_at(span, name, "is a directory, not a spec file", sources) from None
    except OSError as exc:
        raise _error_at(span, name, f"cannot read: {exc.strerror}", sources) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError(
            (Diagnostic(Span(name, line, 1), "spec is not UTF-8 text: is this a binary file?"),),
            sources,
        ) from None
    sources[name] = text
    return text


def _error_at(span: Span | None, name: str, message: str, sources: dict[str, str]) -> SpecError:
    return SpecError((Diagnostic(span or Span(name, 0, 0), message),), sources)


def _display(path: Path) -> str:
    text = os.path.normpath(str(path))
    try:
        rel = os.path.relpath(text)
    except ValueError:
        return text
    return rel if not rel.startswith("..") else text


def _load_merged(
    path: Path, sources: dict[str, str], chain: tuple[str, ...], span: Span | None = None
) -> tuple[s.SSpec, tuple[s.SDecl, ...]]:
    text = _read(path, sources, span)
    name = _display(path)
    try:
        spec = parse_spec(text, name)
    except SpecError as exc:
        raise SpecError(exc.diagnostics, sources) from None
    return spec, _merge_base(spec, path.parent, sources, (*chain, name))


def _merge_base(
    spec: s.SSpec, folder: Path, sources: dict[str, str], chain: tuple[str, ...]
) -> tuple[s.SDecl, ...]:
    if spec.extends is None:
        return _check_no_replace(spec, sources)
    base_path = folder / spec.extends
    if _display(base_path) in chain:
        raise SpecError(
            (
                Diagnostic(
                    spec.span,
                    "'extends' forms a cycle: " + " -> ".join((*chain, _display(base_path))),
                ),
            ),
            sources,
        )
    _, base_decls = _load_merged(base_path, sources, chain, spec.span)
    return _apply_extension(base_decls, spec, sources)


def _check_no_replace(spec: s.SSpec, sources: dict[str, str]) -> tuple[s.SDecl, ...]:
    bad = [d for d in spec.decls if getattr(d, "replace", False) or isinstance(d, s.SRemove)]
    if bad:
        raise SpecError(
            tuple(
                Diagnostic(
                    d.span, "'replace' and 'remove' are only allowed in a spec that extends another"
                )
                for d in bad
            ),
            sources,
        )
    return spec.decls


def _decl_key(decl: s.SDecl) -> tuple[str, str] | None:
    match decl:
        case s.SInstruction(name=name) | s.SMember(name=name):
            return ("instruction", name)
        case s.SFamily(name=name):
            return ("family", name)
        case s.SHandler(kind=kind):
            return ("handler", kind or "*")
        case s.SState(name=name) | s.SMemory(name=name) | s.SConst(name=name) | s.SDef(name=name):
            return ("value", name)
        case s.SPredicate(name=name):
            return ("value", name)
        case s.SPc():
            return ("pc", "pc")
    return None


def _apply_extension(
    base: tuple[s.SDecl, ...], ext: s.SSpec, sources: dict[str, str]
) -> tuple[s.SDecl, ...]:
    merged: list[s.SDecl | None] = list(base)
    position = {k: i for i, d in enumerate(base) if (k := _decl_key(d)) is not None}
    problems: list[Diagnostic] = []
    for decl in ext.decls:
        if isinstance(decl, s.SSettable) and decl.replace:
            # 'replace vmm sets ...' is the whole list of settable fields from now on.
            merged = [None if isinstance(d, s.SSettable) else d for d in merged]
            merged.append(decl)
            continue
        if isinstance(decl, s.SRemove):
            where = position.pop(("instruction", decl.name), None)
            if where is None:
                problems.append(
                    Diagnostic(
                        decl.span, f"cannot remove '{decl.name}': the base has no such instruction"
                    )
                )
            else:
                merged[where] = None
            continue
        key = _decl_key(decl)
        replace = getattr(decl, "replace", False)
        if key is None or (key not in position and not replace):
            if key is not None:
                position[key] = len(merged)
            merged.append(decl)
        elif key in position and replace:
            merged[position[key]] = decl
        elif replace:
            problems.append(
                Diagnostic(decl.span, f"'replace' of '{key[1]}', which the base does not define")
            )
        else:
            old = merged[position[key]]
            at = f" at {old.span}" if old is not None else ""
            problems.append(
                Diagnostic(
                    decl.span,
                    f"'{key[1]}' is already defined in the base{at}",
                    "write 'replace' before it to change it",
                )
            )
    if problems:
        raise SpecError(tuple(problems), sources)
    return tuple(d for d in merged if d is not None)


# ---------------------------------------------------------------- elaboration


@dataclass
class _Scope:
    """Names visible while elaborating one expression or body."""

    locals: dict[str, int] = field(default_factory=dict)
    operands: dict[str, int] = field(default_factory=dict)
    aliases: Mapping[str, str | int] = field(default_factory=dict)
    state_allowed: bool = True
    what: str = "expression"

    def child(self) -> _Scope:
        return _Scope(dict(self.locals), self.operands, self.aliases, self.state_allowed, self.what)


class _Elaborator:
    def __init__(self, spec: s.SSpec, decls: tuple[s.SDecl, ...], sources: dict[str, str]) -> None:
        self.spec = spec
        self.decls = decls
        self.sources = sources
        self.diags: list[Diagnostic] = []
        self.consts: dict[str, int] = {}
        self.state: dict[str, ir.StateComponent] = {}
        self.memories: dict[str, ir.Memory] = {}
        self.memory_syntax: dict[str, s.SMemory] = {}
        self.predicate_syntax: dict[str, s.SPredicate] = {}
        self.predicates: dict[str, ir.Expr] = {}
        self.def_syntax: dict[str, s.SDef] = {}
        self.functions: dict[str, ir.Function] = {}
        self.families: dict[str, s.SFamily] = {}
        self.defined: dict[str, Span] = {}
        self.in_progress: list[str] = []
        self.handler_widths: dict[str | None, int] = {}
        self.instruction_decls: dict[str, s.SInstruction | s.SMember] = {}
        self.elaborated: dict[str, ir.Instruction] = {}
        self.executing: list[str] = []
        self.executed_where: list[ir.Expr] = []

    # -- diagnostics
    def fail(self, span: Span, message: str, hint: str | None = None) -> _Fail:
        self.diags.append(Diagnostic(span, message, hint))
        return _Fail()

    def _define(self, name: str, span: Span, what: str) -> bool:
        if name in BUILTINS:
            self.fail(span, f"'{name}' is a built-in function and cannot be redefined")
            return False
        if name in self.defined:
            self.fail(span, f"{what} '{name}' is defined twice (first at {self.defined[name]})")
            return False
        self.defined[name] = span
        return True

    # -- driver
    def run(self) -> ir.Isa:
        try:
            isa = self._run()
        except RecursionError:
            raise SpecError(
                (Diagnostic(self.spec.span, "spec is nested too deeply to analyse"),), self.sources
            ) from None
        if self.diags:
            raise SpecError(tuple(dict.fromkeys(self.diags)), self.sources)
        return isa

    def _run(self) -> ir.Isa:
        self._collect_declarations()
        memories = [self._memory(m) for m in self.memory_syntax.values()]
        for memory in memories:
            if memory is not None:
                self.memories[memory.name] = memory
        self._elaborate_predicates()
        self._elaborate_functions()
        handlers = self._handlers()
        invariants = self._invariants()
        instructions = self._instructions()
        self._check_required()
        settable = self._settable()
        pc = self._pc()
        base_title = self.spec.title or self.spec.name
        return ir.Isa(
            name=self.spec.name,
            title=base_title,
            manuals=self.spec.manuals,
            state=tuple(self.state.values()),
            memories=tuple(m for m in memories if m is not None),
            predicates=tuple(
                ir.Predicate(n, b, self.predicate_syntax[n].span)
                if n in self.predicate_syntax
                else ir.Predicate(n, b)
                for n, b in self.predicates.items()
            ),
            invariants=invariants,
            functions=tuple(self.functions.values()),
            handlers=handlers,
            instructions=instructions,
            settable=settable,
            pc=pc,
            base=self.spec.extends and Path(self.spec.extends).stem,
            source=self.spec.span.file,
            digest=_sources_digest(self.sources),
        )

    def _collect_declarations(self) -> None:
        for decl in self.decls:
            match decl:
                case s.SConst():
                    if self._define(decl.name, decl.span, "constant"):
                        with contextlib.suppress(_Fail):
                            self.consts[decl.name] = self.const_int(
                                decl.value, _Scope(state_allowed=False)
                            )
                case s.SState():
                    if self._define(decl.name, decl.span, "state component"):
                        with contextlib.suppress(_Fail):
                            self._state(decl)
                case s.SMemory():
                    if self._define(decl.name, decl.span, "memory"):
                        self.memory_syntax[decl.name] = decl
                case s.SPredicate():
                    if self._define(decl.name, decl.span, "predicate"):
                        self.predicate_syntax[decl.name] = decl
                case s.SDef():
                    if self._define(decl.name, decl.span, "function"):
                        self.def_syntax[decl.name] = decl
                case s.SFamily():
                    if decl.name in self.families:
                        self.fail(
                            decl.span,
                            f"family '{decl.name}' is defined twice (first at "
                            f"{self.families[decl.name].span})",
                        )
                    self.families[decl.name] = decl
                case s.SHandler():
                    with contextlib.suppress(_Fail):
                        self._handler_width(decl)

    def _state(self, decl: s.SState) -> None:
        scope = _Scope(state_allowed=False)
        width = self.width_of(decl.width, scope)
        count = None
        if decl.count is not None:
            count = self.const_int(decl.count, scope)
            if count < 1 or count & (count - 1):
                raise self.fail(
                    decl.count.span, f"register file size must be a power of two, not {count}"
                )
        if decl.mapping and decl.kind != "control":
            raise self.fail(decl.span, "only a control component can be marked 'mapping'")
        self.state[decl.name] = ir.StateComponent(
            decl.name, width, count, ir.Kind(decl.kind), decl.mapping, decl.readonly, decl.span
        )

    def _handler_width(self, decl: s.SHandler) -> None:
        if decl.kind in self.handler_widths:
            raise self.fail(
                decl.span, f"a handler for '{decl.kind or 'any'}' traps is defined twice"
            )
        if decl.vector.type.width is None:
            raise self.fail(decl.vector.span, "a trap vector is bits, not bool")
        self.handler_widths[decl.kind] = self.width_of(
            decl.vector.type.width, _Scope(state_allowed=False)
        )

    def _memory(self, decl: s.SMemory) -> ir.Memory | None:
        try:
            scope = _Scope(state_allowed=False)
            cell = self.width_of(decl.cell_width, scope)
            addr = self.width_of(decl.address_width, scope)
            if addr > 64:
                raise self.fail(decl.address_width.span, "a memory address is at most 64 bits")
            translation = None
            if decl.translate is not None:
                tscope = _Scope(locals={decl.translate.param: addr}, what="translation")
                faults = tuple(self.condition(f, tscope) for f in decl.translate.faults)
                to = self.expr(decl.translate.to, tscope, addr)
                translation = ir.Translation(decl.translate.param, faults, to)
            return ir.Memory(decl.name, cell, addr, decl.endian, translation, decl.span)
        except _Fail:
            return None

    def _elaborate_predicates(self) -> None:
        for name, decl in self.predicate_syntax.items():
            with contextlib.suppress(_Fail):
                self.predicate_body(name, decl.span)
        if "vm_context" not in self.predicates and "user" in self.predicates:
            self.predicates["vm_context"] = self.predicates["user"]

    def predicate_body(self, name: str, span: Span) -> ir.Expr:
        if name in self.predicates:
            return self.predicates[name]
        if name in self.in_progress:
            raise self.fail(
                span,
                f"predicate '{name}' refers to itself: " + " -> ".join((*self.in_progress, name)),
            )
        self.in_progress.append(name)
        try:
            decl = self.predicate_syntax[name]
            body = self.condition(decl.body, _Scope(what="predicate"))
        finally:
            self.in_progress.pop()
        self.predicates[name] = body
        return body

    def _elaborate_functions(self) -> None:
        for name, decl in self.def_syntax.items():
            with contextlib.suppress(_Fail):
                self.function(name, decl.span)

    def function(self, name: str, span: Span) -> ir.Function:
        if name in self.functions:
            return self.functions[name]
        if name in self.in_progress:
            raise self.fail(
                span, f"function '{name}' calls itself: " + " -> ".join((*self.in_progress, name))
            )
        decl = self.def_syntax[name]
        self.in_progress.append(name)
        try:
            params = []
            for p in decl.params:
                if p.type.width is None:
                    raise self.fail(p.span, "function parameters are bits, not bool")
                params.append(ir.Param(p.name, self.width_of(p.type.width, _Scope()), p.span))
            scope = _Scope(
                locals={p.name: p.width for p in params},
                state_allowed=not decl.opaque,
                what="opaque function" if decl.opaque else "function",
            )
            if decl.result.width is None:
                body = self.condition(decl.body, scope)
                width = ir.BOOL
            else:
                width = self.width_of(decl.result.width, _Scope())
                body = self.expr(decl.body, scope, width)
                self.check_width(body, width, decl.body.span, f"the body of '{name}'")
        finally:
            self.in_progress.pop()
        function = ir.Function(name, tuple(params), width, body, decl.opaque, decl.span)
        self.functions[name] = function
        return function

    def _handlers(self) -> tuple[ir.Handler, ...]:
        out = []
        for decl in self.decls:
            if not isinstance(decl, s.SHandler) or decl.kind not in self.handler_widths:
                continue
            width = self.handler_widths[decl.kind]
            scope = _Scope(locals={decl.vector.name: width}, what="trap handler")
            try:
                body = self.body(decl.body, scope, allow_traps=False)
            except _Fail:
                continue
            kind = ir.TrapKind(decl.kind) if decl.kind else None
            out.append(
                ir.Handler(
                    kind, ir.Param(decl.vector.name, width, decl.vector.span), body, decl.span
                )
            )
        return tuple(out)

    def _invariants(self) -> tuple[ir.Expr, ...]:
        out = []
        for decl in self.decls:
            if isinstance(decl, s.SInvariant):
                with contextlib.suppress(_Fail):
                    out.append(self.condition(decl.body, _Scope(what="invariant")))
        return tuple(out)

    def _settable(self) -> tuple[ir.Field, ...]:
        fields: list[ir.Field] = []
        for decl in self.decls:
            if not isinstance(decl, s.SSettable):
                continue
            for ref in decl.fields:
                component = self.state.get(ref.name)
                if component is None:
                    self.fail(
                        ref.span,
                        f"unknown state component '{ref.name}'",
                        suggest(ref.name, self.state),
                    )
                    continue
                if not component.is_control or component.count is not None:
                    self.fail(
                        ref.span,
                        f"'{ref.name}' is not a scalar mode or control "
                        "component; a VMM sets only control state",
                    )
                    continue
                whole = ref.hi is None
                hi = component.width - 1 if ref.hi is None else ref.hi
                lo = 0 if ref.lo is None else ref.lo
                if not 0 <= lo <= hi < component.width:
                    self.fail(ref.span, f"bit range [{hi}:{lo}] is outside bits({component.width})")
                    continue
                field_ = ir.Field(ref.name, hi, lo, whole)
                if field_ not in fields:
                    fields.append(field_)
        return tuple(fields)

    def _pc(self) -> str | None:
        """The declared ``pc`` component, else the visible scalar with a usual PC name."""
        declared = [d for d in self.decls if isinstance(d, s.SPc)]
        for extra in declared[1:]:
            self.fail(extra.span, f"'pc' is declared twice (first at {declared[0].span})")
        if declared:
            decl = declared[0]
            component = self.state.get(decl.name)
            if component is None:
                self.fail(
                    decl.span,
                    f"unknown state component '{decl.name}'",
                    suggest(decl.name, self.state),
                )
                return None
            if component.count is not None or component.kind is not ir.Kind.VISIBLE:
                self.fail(decl.span, f"the pc '{decl.name}' must be a visible scalar component")
                return None
            return decl.name
        for name in USUAL_PC_NAMES:
            component = self.state.get(name)
            if component and component.count is None and component.kind is ir.Kind.VISIBLE:
                return name
        return None

    def _check_required(self) -> None:
        for name in REQUIRED_PREDICATES:
            if name not in self.predicate_syntax:
                self.fail(
                    self.spec.span,
                    f"the spec does not define predicate '{name}'",
                    f"add e.g.: predicate {name} = MODE == 0",
                )
        if not any(c.kind is ir.Kind.MODE for c in self.state.values()):
            self.fail(
                self.spec.span,
                "the spec declares no state component of kind 'mode'",
                "declare the privilege level, e.g.: state S : bits(1) mode",
            )

    # -- instructions
    def _instructions(self) -> tuple[ir.Instruction, ...]:
        out: list[ir.Instruction] = []
        seen: dict[str, Span] = {}
        for decl in self.decls:
            if isinstance(decl, s.SInstruction | s.SMember):
                self.instruction_decls.setdefault(decl.name, decl)
        for decl in self.decls:
            if not isinstance(decl, s.SInstruction | s.SMember):
                continue
            if decl.name in seen:
                self.fail(
                    decl.span,
                    f"instruction '{decl.name}' is defined twice (first at {seen[decl.name]})",
                )
                continue
            seen[decl.name] = decl.span
            try:
                if decl.name not in self.elaborated:
                    self.executing.append(decl.name)
                    try:
                        self.elaborated[decl.name] = self.instruction(decl)
                    finally:
                        self.executing.pop()
                out.append(self.elaborated[decl.name])
            except _Fail:
                continue
        return tuple(out)

    def instruction(self, decl: s.SInstruction | s.SMember) -> ir.Instruction:
        if isinstance(decl, s.SInstruction):
            return self._instruction_from(
                decl.name, decl.operands, decl.clauses, decl.body, {}, None, decl.span
            )
        family = self.families.get(decl.family)
        if family is None:
            raise self.fail(
                decl.span, f"unknown family '{decl.family}'", suggest(decl.family, self.families)
            )
        if len(decl.args) != len(family.params):
            raise self.fail(
                decl.span,
                f"family '{family.name}' takes {len(family.params)} "
                f"argument(s), not {len(decl.args)}",
            )
        aliases: dict[str, str | int] = {}
        for param, arg in zip(family.params, decl.args, strict=True):
            if isinstance(arg, s.SName) and arg.name not in self.consts:
                aliases[param] = arg.name
            else:
                aliases[param] = self.const_int(arg, _Scope(state_allowed=False))
        clauses = s.SClauses(
            decl.clauses.mnemonic or family.clauses.mnemonic,
            decl.clauses.form or family.clauses.form,
            decl.clauses.cite or family.clauses.cite,
            family.clauses.where + decl.clauses.where,
        )
        return self._instruction_from(
            decl.name, family.operands, clauses, family.body, aliases, family.name, decl.span
        )

    def _instruction_from(
        self,
        name: str,
        operands: tuple[s.SParam, ...],
        clauses: s.SClauses,
        body: tuple[s.SStmt, ...],
        aliases: Mapping[str, str | int],
        family: str | None,
        span: Span,
    ) -> ir.Instruction:
        params: list[ir.Param] = []
        for p in operands:
            if p.type.width is None:
                raise self.fail(p.span, "operand fields are bits, not bool")
            if p.name in self.defined:
                raise self.fail(
                    p.span,
                    f"operand '{p.name}' has the name of a declaration (at {self.defined[p.name]})",
                )
            params.append(
                ir.Param(p.name, self.width_of(p.type.width, _Scope(aliases=aliases)), p.span)
            )
        operand_widths = {p.name: p.width for p in params}
        if clauses.cite is None:
            self.fail(
                span,
                f"instruction '{name}' does not cite its manual section",
                'add: cite "<manual> <section>"',
            )
        where_scope = _Scope(
            operands=operand_widths, aliases=aliases, state_allowed=False, what="'where' clause"
        )
        where = tuple(self.condition(w, where_scope) for w in clauses.where)
        scope = _Scope(operands=operand_widths, aliases=aliases, what="instruction")
        self.executed_where = []
        stmts = self.body(body, scope, allow_traps=True)
        where += tuple(self.executed_where)
        mnemonic = clauses.mnemonic or name.upper()
        return ir.Instruction(
            name,
            mnemonic,
            clauses.form or mnemonic,
            clauses.cite or "",
            tuple(params),
            where,
            stmts,
            family,
            span,
        )

    # -- statements
    def body(
        self, stmts: tuple[s.SStmt, ...], scope: _Scope, *, allow_traps: bool
    ) -> tuple[ir.Stmt, ...]:
        failed = len(self.diags)
        out = self._block(stmts, scope, set(), allow_traps)
        if len(self.diags) > failed:
            raise _Fail()
        return out

    def _block(
        self, stmts: tuple[s.SStmt, ...], scope: _Scope, assigned: set[str], allow_traps: bool
    ) -> tuple[ir.Stmt, ...]:
        out: list[ir.Stmt] = []
        scope = scope.child()
        for stmt in stmts:
            try:
                if isinstance(stmt, s.SExecute):
                    out += self._execute(stmt, scope, allow_traps)
                else:
                    out.append(self._stmt(stmt, scope, assigned, allow_traps))
            except _Fail:
                continue
        return tuple(out)

    def _stmt(self, stmt: s.SStmt, scope: _Scope, assigned: set[str], allow_traps: bool) -> ir.Stmt:
        match stmt:
            case s.SAssign():
                return self._assign(stmt, scope, assigned)
            case s.SIf():
                return self._if(stmt, scope, assigned, allow_traps)
            case s.STrap():
                if not allow_traps:
                    raise self.fail(stmt.span, "a trap handler cannot itself trap")
                return self._trap(stmt, scope)
            case s.SLet():
                if (
                    stmt.name in scope.locals
                    or stmt.name in scope.operands
                    or stmt.name in self.defined
                ):
                    raise self.fail(stmt.span, f"'let {stmt.name}' hides another name")
                value = self.expr(stmt.value, scope, None)
                scope.locals[stmt.name] = value.width
                return ir.Let(stmt.name, value, stmt.span)
            case s.SUnmodelled():
                return ir.Unmodelled(stmt.reason, stmt.span)
            case s.SExecute():
                raise self.fail(stmt.span, "internal: 'execute' is spliced by _block")

    def _execute(self, stmt: s.SExecute, scope: _Scope, allow_traps: bool) -> tuple[ir.Stmt, ...]:
        """The named instruction's traps and effects with its operands bound to the arguments;
        its ``where`` conditions, so bound, join the executing instruction's."""
        if not allow_traps:
            raise self.fail(stmt.span, "a trap handler cannot execute an instruction")
        callee = self._executed(stmt)
        if len(stmt.args) != len(callee.operands):
            raise self.fail(
                stmt.span,
                f"instruction '{callee.name}' takes {len(callee.operands)} operand(s), "
                f"not {len(stmt.args)}",
                f"its operands: {', '.join(p.name for p in callee.operands) or 'none'}",
            )
        bound: dict[str, ir.Expr] = {}
        for param, arg in zip(callee.operands, stmt.args, strict=True):
            value = self.expr(arg, scope, param.width)
            self.check_width(value, param.width, arg.span, f"operand '{param.name}'")
            if any(isinstance(e, ir.LocalRef) for e in ir.walk_expr(value)):
                raise self.fail(
                    arg.span, "an operand of an executed instruction cannot use a 'let' name"
                )
            bound[param.name] = value
        for condition in callee.where:
            bound_condition = ir.substitute(condition, bound)
            if not _operands_only(bound_condition):
                raise self.fail(
                    stmt.span,
                    f"'{callee.name}' constrains its operands with 'where', so the arguments "
                    "it constrains must be operand fields, not state",
                )
            self.executed_where.append(bound_condition)
        for let in (x for x in ir.walk_stmts(callee.body) if isinstance(x, ir.Let)):
            if let.name in scope.locals or let.name in scope.operands:
                raise self.fail(
                    stmt.span, f"'{callee.name}' binds 'let {let.name}', which hides another name"
                )
            scope.locals[let.name] = let.value.width
        return ir.substitute_stmts(callee.body, bound)

    def _executed(self, stmt: s.SExecute) -> ir.Instruction:
        """The elaborated instruction ``execute`` names (instructions may execute others
        declared anywhere in the spec, but not themselves, directly or not)."""
        decl = self.instruction_decls.get(stmt.instruction)
        if decl is None:
            raise self.fail(
                stmt.span,
                f"unknown instruction '{stmt.instruction}'",
                suggest(
                    stmt.instruction,
                    [n for n in self.instruction_decls if n not in self.executing],
                ),
            )
        if stmt.instruction in self.executing:
            # Told from the instruction whose statement closes the cycle.
            cycle = self.executing[self.executing.index(stmt.instruction) :]
            chain = " -> ".join([cycle[-1], *cycle[:-1], cycle[-1]])
            raise self.fail(stmt.span, f"instructions execute each other in a cycle: {chain}")
        if stmt.instruction not in self.elaborated:
            saved = self.executed_where
            self.executing.append(stmt.instruction)
            try:
                self.elaborated[stmt.instruction] = self.instruction(decl)
            finally:
                self.executing.pop()
                self.executed_where = saved
        return self.elaborated[stmt.instruction]

    def _if(self, stmt: s.SIf, scope: _Scope, assigned: set[str], allow_traps: bool) -> ir.Stmt:
        (cond_syntax, then_syntax), *rest = stmt.branches
        cond = self.condition(cond_syntax, scope)
        then_assigned = set(assigned)
        then = self._block(then_syntax, scope, then_assigned, allow_traps)
        other_assigned = set(assigned)
        if rest:
            nested = s.SIf(tuple(rest), stmt.otherwise, rest[0][0].span)
            other: tuple[ir.Stmt, ...] = (self._if(nested, scope, other_assigned, allow_traps),)
        else:
            other = self._block(stmt.otherwise, scope, other_assigned, allow_traps)
        assigned |= then_assigned | other_assigned
        return ir.If(cond, then, other, stmt.span)

    def _trap(self, stmt: s.STrap, scope: _Scope) -> ir.Trap:
        vector = None
        if stmt.vector is not None:
            width = self.handler_widths.get(stmt.kind, self.handler_widths.get(None))
            if width is None:
                raise self.fail(
                    stmt.vector.span,
                    f"this trap has a vector but no 'on trap' "
                    f"handler for '{stmt.kind}' traps declares its width",
                )
            vector = self.expr(stmt.vector, scope, width)
        when = None if stmt.when is None else self.condition(stmt.when, scope)
        return ir.Trap(ir.TrapKind(stmt.kind), vector, when, stmt.span)

    def _assign(self, stmt: s.SAssign, scope: _Scope, assigned: set[str]) -> ir.Assign:
        target, width, rebuild, key = self._target(stmt.target, scope)
        value = self.expr(stmt.value, scope, width)
        self.check_width(value, width, stmt.value.span, "the assigned value")
        if key is not None:
            if key in assigned:
                raise self.fail(
                    stmt.target.span,
                    f"'{key}' is assigned twice on the same path",
                    "assignments are parallel: combine them into one",
                )
            assigned.add(key)
        return ir.Assign(target, rebuild(value), stmt.span)

    def _target(
        self, node: s.SExpr, scope: _Scope
    ) -> tuple[ir.Target, int, Callable[[ir.Expr], ir.Expr], str | None]:
        """Resolve an assignment target to (target, width of the value, how to merge the value
        into the whole component, the name to guard against double assignment)."""
        match node:
            case s.SName(name=name, span=span):
                name = self._alias_name(name, scope)
                component = self._writable(name, span, scope)
                if component.count is not None:
                    raise self.fail(
                        span,
                        f"'{name}' is a register file: write one register, e.g. {name}[i] := ...",
                    )
                return ir.StateTarget(name), component.width, lambda v: v, name
            case s.SIndex(base=s.SName(name=name, span=span), index=index, cells=cells):
                name = self._alias_name(name, scope)
                if name in self.memories:
                    memory = self.memories[name]
                    address = self.expr(index, scope, memory.address_width)
                    self.check_width(address, memory.address_width, index.span, "the address")
                    count = 1 if cells is None else self._cells(cells, scope)
                    return (
                        ir.MemTarget(name, address, count, False),
                        count * memory.cell_width,
                        lambda v: v,
                        None,
                    )
                component = self._writable(name, span, scope)
                if component.count is not None:
                    if cells is not None:
                        raise self.fail(node.span, "only a memory takes '[address, cells]'")
                    idx = self.expr(index, scope, component.index_width)
                    self.check_width(
                        idx, component.index_width, index.span, f"the index into {name}"
                    )
                    return ir.FileTarget(name, idx), component.width, lambda v: v, None
                return self._partial(node, scope, index, index)
            case s.SSlice(hi=hi, lo=lo):
                return self._partial(node, scope, hi, lo)
            case s.SPhysical(memory=mname, address=address, cells=cells, span=span):
                memory = self._memory_named(mname, span, scope)
                addr = self.expr(address, scope, memory.address_width)
                self.check_width(addr, memory.address_width, address.span, "the address")
                count = 1 if cells is None else self._cells(cells, scope)
                return (
                    ir.MemTarget(memory.name, addr, count, True),
                    count * memory.cell_width,
                    lambda v: v,
                    None,
                )
        raise self.fail(
            node.span,
            "cannot assign to this: a target is a state component, a "
            "register, a memory location, or a bit range of one of these",
        )

    def _partial(
        self, node: s.SIndex | s.SSlice, scope: _Scope, hi_syntax: s.SExpr, lo_syntax: s.SExpr
    ) -> tuple[ir.Target, int, Callable[[ir.Expr], ir.Expr], str | None]:
        base = node.base
        target, width, rebuild, key = self._target(base, scope)
        if isinstance(target, ir.MemTarget):
            raise self.fail(node.span, "write a memory location whole, not a bit range of it")
        hi = self.const_int(hi_syntax, scope)
        lo = self.const_int(lo_syntax, scope)
        if not 0 <= lo <= hi < width:
            raise self.fail(node.span, f"bit range [{hi}:{lo}] is outside bits({width})")
        whole = _target_read(target, width)

        def merge(value: ir.Expr) -> ir.Expr:
            parts: list[ir.Expr] = []
            if hi < width - 1:
                parts.append(ir.Extract(whole, width - 1, hi + 1, width - 1 - hi))
            parts.append(value)
            if lo > 0:
                parts.append(ir.Extract(whole, lo - 1, 0, lo))
            merged = parts[0] if len(parts) == 1 else ir.Concat(tuple(parts), width)
            return rebuild(merged)

        return target, hi - lo + 1, merge, key

    def _writable(self, name: str, span: Span, scope: _Scope) -> ir.StateComponent:
        component = self.state.get(name)
        if component is None:
            if name in scope.locals or name in scope.operands:
                raise self.fail(
                    span,
                    f"'{name}' is not state: only state components, registers "
                    "and memory can be assigned",
                )
            raise self.fail(
                span,
                f"assignment to undeclared state '{name}'",
                suggest(name, [*self.state, *self.memories]),
            )
        if component.readonly:
            raise self.fail(span, f"'{name}' is read-only (declared at {component.span})")
        return component

    def _memory_named(self, name: str, span: Span, scope: _Scope) -> ir.Memory:
        name = self._alias_name(name, scope)
        if name not in self.memories:
            raise self.fail(span, f"unknown memory '{name}'", suggest(name, self.memories))
        if not scope.state_allowed:
            raise self.fail(span, f"a {scope.what} cannot read memory")
        return self.memories[name]

    def _cells(self, node: s.SExpr, scope: _Scope) -> int:
        count = self.const_int(node, scope)
        if not 1 <= count <= 64:
            raise self.fail(node.span, f"a memory access spans 1 to 64 cells, not {count}")
        return count

    # -- expressions
    def condition(self, node: s.SExpr, scope: _Scope) -> ir.Expr:
        """Elaborate ``node`` as a condition (bits(1) is read as 'equal to 1')."""
        value = _as_bool(self._fix(self._elab(node, scope, ir.BOOL), ir.BOOL, node.span))
        if value.width != ir.BOOL:
            raise self.fail(
                node.span,
                f"a condition is expected here, not {_ty(value.width)}",
                "compare it, e.g. X != 0",
            )
        return value

    def expr(self, node: s.SExpr, scope: _Scope, expect: int | None) -> ir.Expr:
        """Elaborate ``node`` with the width its context expects, if any."""
        return self._fix(self._elab(node, scope, expect), expect, node.span)

    def check_width(self, value: ir.Expr, width: int, span: Span, what: str) -> None:
        if value.width != width:
            raise self.fail(
                span,
                f"width mismatch: {what} is {_ty(value.width)}, expected {_ty(width)}",
                _width_hint(value.width, width),
            )

    def _fix(self, value: ir.Expr | _Lit, expect: int | None, span: Span) -> ir.Expr:
        if isinstance(value, _Lit):
            if expect is None:
                raise self.fail(
                    span,
                    f"cannot tell the width of literal {value.value}",
                    f"write a sized literal such as 32'd{value.value}",
                )
            if expect == ir.BOOL:
                raise self.fail(
                    span,
                    f"literal {value.value} used as a condition",
                    "compare it, e.g. X == 1, or write true/false",
                )
            if not -(1 << (expect - 1)) <= value.value < 1 << expect:
                raise self.fail(span, f"literal {value.value} does not fit in bits({expect})")
            return ir.Const(value.value % (1 << expect), expect, value.span)
        if expect == ir.BOOL and value.width == 1:
            return _as_bool(value)
        if expect == 1 and value.width == ir.BOOL:
            return _as_bit(value)
        return value

    def _elab(self, node: s.SExpr, scope: _Scope, expect: int | None) -> ir.Expr | _Lit:
        match node:
            case s.SNumber(value=value, width=None):
                return _Lit(value, node.span)
            case s.SNumber(value=value, width=int(width)):
                return ir.Const(value, width, node.span)
            case s.SBool(value=value):
                return ir.BoolConst(value, node.span)
            case s.SName():
                return self._name(node, scope)
            case s.SCall():
                return self._call(node, scope, expect)
            case s.SIndex():
                return self._index(node, scope)
            case s.SSlice():
                base = self.expr(node.base, scope, None)
                hi = self.const_int(node.hi, scope)
                lo = self.const_int(node.lo, scope)
                self._require_bits(base, node.base.span)
                if not 0 <= lo <= hi < base.width:
                    raise self.fail(
                        node.span, f"bit range [{hi}:{lo}] is outside bits({base.width})"
                    )
                return ir.Extract(base, hi, lo, hi - lo + 1, node.span)
            case s.SPhysical():
                memory = self._memory_named(node.memory, node.span, scope)
                address = self.expr(node.address, scope, memory.address_width)
                self.check_width(address, memory.address_width, node.address.span, "the address")
                count = 1 if node.cells is None else self._cells(node.cells, scope)
                return ir.MemRead(
                    memory.name, address, count, True, count * memory.cell_width, node.span
                )
            case s.SUnary():
                return self._unary(node, scope, expect)
            case s.SBinary():
                return self._binary(node, scope, expect)
            case s.SIte():
                cond = self.condition(node.cond, scope)
                then, other = self._pair(node.then, node.other, scope, expect, node.span)
                return ir.Ite(cond, then, other, then.width, node.span)
        raise AssertionError(f"unhandled syntax node {node!r}")

    def _name(self, node: s.SName, scope: _Scope) -> ir.Expr | _Lit:
        name = node.name
        alias = scope.aliases.get(name)
        if isinstance(alias, int):
            return _Lit(alias, node.span)
        if alias is not None:
            name = alias
        if name in scope.locals:
            return ir.LocalRef(name, scope.locals[name], node.span)
        if name in scope.operands:
            return ir.OperandRef(name, scope.operands[name], node.span)
        if name in self.consts:
            return _Lit(self.consts[name], node.span)
        if name in self.state:
            component = self.state[name]
            if not scope.state_allowed:
                raise self.fail(node.span, f"a {scope.what} cannot read state ('{name}')")
            if component.count is not None:
                raise self.fail(
                    node.span, f"'{name}' is a register file: read one register, e.g. {name}[i]"
                )
            return ir.StateRead(name, component.width, node.span)
        if name in self.predicate_syntax:
            if not scope.state_allowed:
                raise self.fail(node.span, f"a {scope.what} cannot read state ('{name}')")
            return self.predicate_body(name, node.span)
        if name in self.memories or name in self.memory_syntax:
            raise self.fail(node.span, f"'{name}' is a memory: read it as {name}[address]")
        if name in self.def_syntax or name in BUILTINS:
            raise self.fail(node.span, f"'{name}' is a function: call it as {name}(...)")
        candidates = [
            *scope.locals,
            *scope.operands,
            *self.consts,
            *self.state,
            *self.predicate_syntax,
        ]
        raise self.fail(node.span, f"unknown name '{name}'", suggest(name, candidates))

    def _alias_name(self, name: str, scope: _Scope) -> str:
        alias = scope.aliases.get(name)
        return alias if isinstance(alias, str) else name

    def _index(self, node: s.SIndex, scope: _Scope) -> ir.Expr:
        if isinstance(node.base, s.SName):
            name = self._alias_name(node.base.name, scope)
            if name in self.memories or name in self.memory_syntax:
                memory = self._memory_named(name, node.base.span, scope)
                address = self.expr(node.index, scope, memory.address_width)
                self.check_width(address, memory.address_width, node.index.span, "the address")
                count = 1 if node.cells is None else self._cells(node.cells, scope)
                return ir.MemRead(
                    memory.name, address, count, False, count * memory.cell_width, node.span
                )
            component = self.state.get(name)
            if component is not None and component.count is not None:
                if not scope.state_allowed:
                    raise self.fail(node.span, f"a {scope.what} cannot read state ('{name}')")
                if node.cells is not None:
                    raise self.fail(node.span, "only a memory takes '[address, cells]'")
                index = self.expr(node.index, scope, component.index_width)
                self.check_width(
                    index, component.index_width, node.index.span, f"the index into {name}"
                )
                return ir.FileRead(name, index, component.width, node.span)
        if node.cells is not None:
            raise self.fail(node.span, "only a memory takes '[address, cells]'")
        base = self.expr(node.base, scope, None)
        self._require_bits(base, node.base.span)
        bit = self.const_int(node.index, scope)
        if not 0 <= bit < base.width:
            raise self.fail(node.index.span, f"bit {bit} is outside bits({base.width})")
        return ir.Extract(base, bit, bit, 1, node.span)

    def _unary(self, node: s.SUnary, scope: _Scope, expect: int | None) -> ir.Expr | _Lit:
        if node.op == "not":
            return ir.Unary("not", self.condition(node.operand, scope), ir.BOOL, node.span)
        operand = self._elab(node.operand, scope, expect)
        if isinstance(operand, _Lit):
            if node.op == "-":
                return _Lit(-operand.value, node.span)
            operand = self._fix(operand, expect, node.operand.span)
        self._require_bits(operand, node.operand.span)
        return ir.Unary(node.op, operand, operand.width, node.span)

    def _binary(self, node: s.SBinary, scope: _Scope, expect: int | None) -> ir.Expr | _Lit:
        op = node.op
        if op in ir.BOOL_OPS:
            left = self.condition(node.left, scope)
            right = self.condition(node.right, scope)
            return ir.Binary(op, left, right, ir.BOOL, node.span)
        if op in ir.COMPARE_OPS:
            left, right = self._pair(node.left, node.right, scope, None, node.span)
            if op not in ("==", "!=") and left.width == ir.BOOL:
                raise self.fail(node.span, f"'{op}' compares bit-vectors, not conditions")
            return ir.Compare(op, left, right, node.span)
        if op in ("<<", ">>", ">>>"):
            return self._shift(op, node.left, node.right, scope, expect, node.span)
        left, right = self._pair(
            node.left, node.right, scope, None if expect == ir.BOOL else expect, node.span
        )
        self._require_bits(left, node.left.span)
        return ir.Binary(op, left, right, left.width, node.span)

    def _shift(
        self,
        op: str,
        left_syntax: s.SExpr,
        right_syntax: s.SExpr,
        scope: _Scope,
        expect: int | None,
        span: Span,
    ) -> ir.Expr:
        value = self.expr(left_syntax, scope, None if expect == ir.BOOL else expect)
        self._require_bits(value, left_syntax.span)
        amount = self.expr(right_syntax, scope, value.width)
        self._require_bits(amount, right_syntax.span)
        if amount.width < value.width:
            amount = ir.Extend(False, amount, value.width, amount.span)
        elif amount.width > value.width:
            raise self.fail(
                right_syntax.span,
                f"shift amount is {_ty(amount.width)}, wider than the shifted {_ty(value.width)}",
                "slice it, e.g. n[4:0]",
            )
        return ir.Binary(op, value, amount, value.width, span)

    def _pair(
        self,
        left_syntax: s.SExpr,
        right_syntax: s.SExpr,
        scope: _Scope,
        expect: int | None,
        span: Span,
    ) -> tuple[ir.Expr, ir.Expr]:
        left = self._elab(left_syntax, scope, expect)
        right = self._elab(right_syntax, scope, expect)
        if isinstance(left, _Lit) and isinstance(right, _Lit):
            left_e = self._fix(left, expect, left_syntax.span)
            right_e = self._fix(right, expect, right_syntax.span)
        elif isinstance(left, _Lit):
            assert not isinstance(right, _Lit)
            right_e = right
            left_e = self._fix(left, right.width, left_syntax.span)
        elif isinstance(right, _Lit):
            left_e = left
            right_e = self._fix(right, left.width, right_syntax.span)
        else:
            left_e, right_e = left, right
            if {left_e.width, right_e.width} == {1, ir.BOOL}:
                left_e, right_e = _as_bool(left_e), _as_bool(right_e)
        if left_e.width != right_e.width:
            raise self.fail(
                span,
                f"width mismatch: {_ty(left_e.width)} and {_ty(right_e.width)}",
                _width_hint(right_e.width, left_e.width),
            )
        return left_e, right_e

    def _require_bits(self, value: ir.Expr, span: Span) -> None:
        if value.width == ir.BOOL:
            raise self.fail(
                span, "a condition is used where bits are expected", "write: if COND then 1 else 0"
            )

    def _call(self, node: s.SCall, scope: _Scope, expect: int | None) -> ir.Expr:
        name = self._alias_name(node.name, scope)
        if name in BUILTINS:
            return self._builtin(name, node, scope, expect)
        if name not in self.def_syntax:
            raise self.fail(
                node.span,
                f"unknown function '{name}'",
                suggest(name, [*self.def_syntax, *BUILTINS]),
            )
        function = self.function(name, node.span)
        if len(node.args) != len(function.params):
            raise self.fail(
                node.span,
                f"'{name}' takes {len(function.params)} argument(s), not {len(node.args)}",
            )
        args = []
        for arg, param in zip(node.args, function.params, strict=True):
            value = self.expr(arg, scope, param.width)
            self.check_width(value, param.width, arg.span, f"argument '{param.name}'")
            args.append(value)
        if not scope.state_allowed and not function.opaque and _reads_state(function.body):
            raise self.fail(node.span, f"a {scope.what} cannot call '{name}', which reads state")
        return ir.Call(name, tuple(args), function.width, node.span)

    def _builtin(self, name: str, node: s.SCall, scope: _Scope, expect: int | None) -> ir.Expr:
        args = node.args
        if name in ("zext", "sext"):
            self._arity(node, 2)
            width = self.const_int(args[1], scope)
            if not 1 <= width <= MAX_WIDTH:
                raise self.fail(args[1].span, f"width {width} is out of range 1..{MAX_WIDTH}")
            inner = self._elab(args[0], scope, None)
            if isinstance(inner, _Lit):
                return self._fix(inner, width, args[0].span)
            self._require_bits(inner, args[0].span)
            if inner.width > width:
                raise self.fail(
                    node.span,
                    f"cannot {name} {_ty(inner.width)} to the narrower bits({width})",
                    "take a bit range instead, e.g. x[7:0]",
                )
            if inner.width == width:
                return inner
            return ir.Extend(name == "sext", inner, width, node.span)
        if name == "concat":
            if len(args) < 2:
                raise self.fail(node.span, "concat takes two or more arguments")
            parts = [self.expr(a, scope, None) for a in args]
            for part, arg in zip(parts, args, strict=True):
                self._require_bits(part, arg.span)
            return ir.Concat(tuple(parts), sum(p.width for p in parts), node.span)
        self._arity(node, 2)
        if name in ("slt", "sle", "sgt", "sge"):
            left, right = self._pair(args[0], args[1], scope, None, node.span)
            self._require_bits(left, args[0].span)
            return ir.Compare(name, left, right, node.span)
        if name in ("rotl", "rotr"):
            return self._shift(name, args[0], args[1], scope, expect, node.span)
        left, right = self._pair(
            args[0], args[1], scope, None if expect == ir.BOOL else expect, node.span
        )
        self._require_bits(left, args[0].span)
        return ir.Binary(name, left, right, left.width, node.span)

    def _arity(self, node: s.SCall, count: int) -> None:
        if len(node.args) != count:
            raise self.fail(
                node.span, f"'{node.name}' takes {count} arguments, not {len(node.args)}"
            )

    # -- constants
    def width_of(self, node: s.SExpr, scope: _Scope) -> int:
        width = self.const_int(node, scope)
        if not 1 <= width <= MAX_WIDTH:
            raise self.fail(node.span, f"width {width} is out of range 1..{MAX_WIDTH}")
        return width

    def const_int(self, node: s.SExpr, scope: _Scope) -> int:
        """Evaluate a constant integer expression (widths, bit positions, sizes)."""
        match node:
            case s.SNumber(value=value):
                return value
            case s.SName(name=name):
                alias = scope.aliases.get(name)
                if isinstance(alias, int):
                    return alias
                if name in self.consts:
                    return self.consts[name]
                raise self.fail(
                    node.span, f"'{name}' is not a constant", suggest(name, self.consts)
                )
            case s.SUnary(op="-", operand=operand):
                return -self.const_int(operand, scope)
            case s.SBinary(op=op, left=left, right=right) if op in ("+", "-", "*", "<<"):
                a = self.const_int(left, scope)
                b = self.const_int(right, scope)
                if op == "<<" and not 0 <= b <= MAX_WIDTH:
                    raise self.fail(node.span, "constant shift out of range")
                result = {"+": a + b, "-": a - b, "*": a * b}.get(op, a << b if op == "<<" else 0)
                if abs(result) > 1 << MAX_WIDTH:
                    raise self.fail(node.span, "constant is too large")
                return result
        raise self.fail(node.span, "expected a constant integer expression")


def _sources_digest(sources: Mapping[str, str]) -> str:
    """A hash of the source texts by file name (not path), so a spec has one digest
    wherever it is read from."""
    digest = hashlib.sha256()
    for path in sorted(sources, key=lambda p: (Path(p).name, p)):
        name = Path(path).name
        digest.update(f"{len(name)}:{name}{len(sources[path])}:".encode())
        digest.update(sources[path].encode())
    return digest.hexdigest()


def _ty(width: int) -> str:
    return "bool" if width == ir.BOOL else f"bits({width})"


def _width_hint(got: int, want: int) -> str | None:
    if got == ir.BOOL or want == ir.BOOL:
        return None
    if got < want:
        return f"extend it: zext(..., {want}) or sext(..., {want})"
    return f"take the low bits: (...)[{want - 1}:0]"


def _as_bool(value: ir.Expr) -> ir.Expr:
    if value.width == 1:
        return ir.Compare("==", value, ir.Const(1, 1), value.span)
    return value


def _as_bit(value: ir.Expr) -> ir.Expr:
    return ir.Ite(value, ir.Const(1, 1), ir.Const(0, 1), 1, value.span)


def _target_read(target: ir.Target, width: int) -> ir.Expr:
    match target:
        case ir.StateTarget(name=name):
            return ir.StateRead(name, width)
        case ir.FileTarget(name=name, index=index):
            return ir.FileRead(name, index, width)
    raise AssertionError("memory targets have no bit ranges")


def _reads_state(expr: ir.Expr) -> bool:
    return any(isinstance(e, ir.StateRead | ir.FileRead | ir.MemRead) for e in ir.walk_expr(expr))


def _operands_only(expr: ir.Expr) -> bool:
    """Whether ``expr`` reads nothing but operand fields and constants."""
    return not any(
        isinstance(e, ir.StateRead | ir.FileRead | ir.MemRead | ir.LocalRef)
        for e in ir.walk_expr(expr)
    )
