"""Text to syntax tree. The only module that imports lark."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from analyzer import syntax as s
from analyzer.errors import Diagnostic, Span, SpecError, suggest

MAX_SPEC_BYTES = 8 * 1024 * 1024

# Token names lark gives anonymous terminals, spelled as a user would type them.
_TOKEN_SPELLING = {
    "LPAR": "'('",
    "RPAR": "')'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COLON": "':'",
    "COMMA": "','",
    "EQUAL": "'='",
    "SEMICOLON": "';'",
    "NAME": "a name",
    "NUMBER": "a number",
    "SIZED": "a sized literal",
    "STRING": "a string",
    "KIND": "a state kind (mode, control, timing, visible)",
    "TRAPKIND": "a trap kind (privilege, memory, always, other)",
    "CMPOP": "a comparison",
    "SHIFTOP": "a shift",
    "ADDOP": "'+' or '-'",
    "ENDIAN": "'big' or 'little'",
    "__ANON_0": "':='",
    "$END": "end of file",
    "STAR": "'*'",
    "VBAR": "'|'",
    "AMPERSAND": "'&'",
    "CIRCUMFLEX": "'^'",
    "TILDE": "'~'",
    "MINUS": "'-'",
    "MORETHAN": "'>'",
    "LESSTHAN": "'<'",
}


@functools.cache
def _parser(grammar_file: str = "isa.lark") -> Lark:
    grammar = resources.files("analyzer").joinpath("grammar", grammar_file).read_text("utf-8")
    # cache=True keeps the LALR tables in a temporary file keyed by the grammar text.
    return Lark(
        grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False, cache=True
    )


def grammar_text() -> str:
    """The language's grammar, as shipped."""
    return resources.files("analyzer").joinpath("grammar", "isa.lark").read_text("utf-8")


def _check_text(text: str, filename: str, what: str, start_hint: str) -> None:
    sources = {filename: text}
    if len(text.encode("utf-8", "replace")) > MAX_SPEC_BYTES:
        raise _error(Span(filename, 1, 1), f"{what} is larger than {MAX_SPEC_BYTES} bytes", sources)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise _error(
            Span(filename, line, 1), f"{what} contains a NUL byte: is this a binary file?", sources
        )
    if not text.strip():
        raise _error(Span(filename, 1, 1), f"{what} is empty", sources, start_hint)


def _parse_with(
    text: str, filename: str, grammar_file: str, transformer: Transformer[Token, Any]
) -> Any:
    sources = {filename: text}
    too_deep = f"{'spec' if grammar_file == 'isa.lark' else 'program'} is nested too deeply to read"
    try:
        tree = _parser(grammar_file).parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, filename, sources) from None
    except RecursionError:
        raise _error(Span(filename, 1, 1), too_deep, sources) from None
    try:
        return transformer.transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, SpecError):
            raise SpecError(exc.orig_exc.diagnostics, sources) from None
        if isinstance(exc.orig_exc, RecursionError):
            raise _error(Span(filename, 1, 1), too_deep, sources) from None
        raise
    except RecursionError:
        raise _error(Span(filename, 1, 1), too_deep, sources) from None


def parse_spec(text: str, filename: str) -> s.SSpec:
    """Parse one ``.isa`` file. Raises :class:`SpecError` on any malformed input."""
    _check_text(
        text,
        filename,
        "spec",
        'a spec must begin with a header such as: isa mymachine "My machine"',
    )
    spec: s.SSpec = _parse_with(text, filename, "isa.lark", _ToSyntax(filename))
    return spec


def parse_program(text: str, filename: str) -> s.SProgram:
    """Parse one guest program. Raises :class:`SpecError` on any malformed input."""
    _check_text(text, filename, "program", "write one instruction per line, e.g.: load a=0x10")
    program: s.SProgram = _parse_with(text, filename, "program.lark", _ToProgram(filename))
    return program


def _error(span: Span, message: str, sources: dict[str, str], hint: str | None = None) -> SpecError:
    return SpecError((Diagnostic(span, message, hint),), sources)


def _syntax_error(exc: UnexpectedInput, filename: str, sources: dict[str, str]) -> SpecError:
    line = getattr(exc, "line", 1) or 1
    column = getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        lines = sources[filename].splitlines() or [""]
        span = Span(filename, len(lines), len(lines[-1]) + 1)
        return _error(
            span,
            "unexpected end of file" + _expected(exc),
            sources,
            "is a '}' or an expression missing?",
        )
    if isinstance(exc, UnexpectedCharacters):
        char = exc.char
        shown = repr(char) if char.isprintable() else f"byte {ord(char):#04x}"
        return _error(Span(filename, line, column), f"unexpected character {shown}", sources)
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    width = len(str(token)) if str(token) else 1
    span = Span(filename, line, column, line, column + width)
    hint = _hint_for(token, exc.expected)
    return _error(span, f"unexpected {_describe(token)}" + _expected(exc), sources, hint)


def _describe(token: Token) -> str:
    if token.type in ("NAME", "NUMBER", "STRING", "SIZED"):
        return f"{token.type.lower()} {str(token)!r}"
    return repr(str(token))


def _expected(exc: UnexpectedInput) -> str:
    expected = getattr(exc, "expected", None) or getattr(exc, "allowed", None)
    if not expected:
        return ""
    names = sorted(
        {_TOKEN_SPELLING.get(e, f"'{e.lower()}'" if e.isupper() else e) for e in expected}
    )
    if len(names) > 8:
        return ""
    return "; expected " + ", ".join(names)


def _hint_for(token: Token, expected: set[str]) -> str | None:
    if token == "=" and "__ANON_0" in expected:
        return "assignments are written ':='"
    if token == "if" and "__ANON_0" not in expected:
        return "a trap condition is written 'trap KIND when CONDITION'"
    keywords = [
        e.lower() for e in expected if e.isalpha() and e.isupper() and e not in _TOKEN_SPELLING
    ]
    if token.type == "NAME" and keywords:
        return suggest(str(token), keywords)
    return None


def _span(filename: str, meta: Any) -> Span:
    if getattr(meta, "empty", True):
        return Span(filename, 1, 1)
    return Span(filename, meta.line, meta.column, meta.end_line, meta.end_column)


def _tspan(filename: str, token: Token) -> Span:
    return Span(
        filename, token.line or 1, token.column or 1, token.end_line or 1, token.end_column or 1
    )


def _unquote(token: Token) -> str:
    body = str(token)[1:-1]
    out: list[str] = []
    chars = iter(body)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


def _number(token: Token) -> int:
    text = str(token).replace("_", "")
    if text.startswith(("0x", "0X")):
        return int(text[2:], 16)
    if text.startswith(("0b", "0B")):
        return int(text[2:], 2)
    return int(text, 10)


@v_args(meta=True)
class _ToSyntax(Transformer[Token, Any]):
    """Builds :mod:`analyzer.syntax` nodes; each carries its source span."""

    def __init__(self, filename: str) -> None:
        super().__init__()
        self.f = filename

    def _sp(self, meta: Any) -> Span:
        return _span(self.f, meta)

    # -- top level
    def start(self, meta: Any, items: list[Any]) -> s.SSpec:
        name, title, extends = items[0]
        manuals = tuple(m for m in items[1:] if isinstance(m, str))
        decls = tuple(d for d in items[1:] if not isinstance(d, str))
        return s.SSpec(name, title, extends, manuals, decls, self._sp(meta))

    def header(self, meta: Any, items: list[Any]) -> tuple[str, str | None, str | None]:
        name = str(items[0])
        title = None
        extends = None
        for item in items[1:]:
            if isinstance(item, Token):
                title = _unquote(item)
            else:
                extends = item
        return name, title, extends

    def extends_clause(self, meta: Any, items: list[Any]) -> str:
        return _unquote(items[0])

    def manual_decl(self, meta: Any, items: list[Any]) -> str:
        return _unquote(items[0])

    # -- declarations
    def const_decl(self, meta: Any, items: list[Any]) -> s.SConst:
        replace, rest = _take_replace(items)
        return s.SConst(str(rest[0]), rest[1], replace, self._sp(meta))

    def state_decl(self, meta: Any, items: list[Any]) -> s.SState:
        replace, rest = _take_replace(items)
        name = str(rest[0])
        width = rest[1].width
        count = None
        kind = ""
        mapping = readonly = False
        for item in rest[2:]:
            if isinstance(item, Token) and item.type == "KIND":
                kind = str(item)
            elif isinstance(item, Token) and item.type == "MAPPING":
                mapping = True
            elif isinstance(item, Token) and item.type == "READONLY":
                readonly = True
            else:
                count = item
        return s.SState(name, width, count, kind, mapping, readonly, replace, self._sp(meta))

    def count(self, meta: Any, items: list[Any]) -> s.SExpr:
        return items[0]  # type: ignore[no-any-return]

    def memory_decl(self, meta: Any, items: list[Any]) -> s.SMemory:
        replace, rest = _take_replace(items)
        name = str(rest[0])
        endian = "big"
        translate = None
        for item in rest[3:]:
            if isinstance(item, Token):
                endian = str(item)
            else:
                translate = item
        return s.SMemory(
            name, rest[1].width, rest[2].width, endian, translate, replace, self._sp(meta)
        )

    def translate(self, meta: Any, items: list[Any]) -> s.STranslate:
        return s.STranslate(str(items[0]), tuple(items[1:-1]), items[-1], self._sp(meta))

    def fault_clause(self, meta: Any, items: list[Any]) -> s.SExpr:
        return items[0]  # type: ignore[no-any-return]

    def predicate_decl(self, meta: Any, items: list[Any]) -> s.SPredicate:
        replace, rest = _take_replace(items)
        return s.SPredicate(str(rest[0]), rest[1], replace, self._sp(meta))

    def invariant_decl(self, meta: Any, items: list[Any]) -> s.SInvariant:
        return s.SInvariant(items[0], self._sp(meta))

    def def_decl(self, meta: Any, items: list[Any]) -> s.SDef:
        replace, rest = _take_replace(items)
        opaque = False
        if isinstance(rest[0], Token) and rest[0].type == "OPAQUE":
            opaque = True
            rest = rest[1:]
        name = str(rest[0])
        params: tuple[s.SParam, ...] = ()
        if isinstance(rest[1], tuple):
            params = rest[1]
            rest = rest[1:]
        return s.SDef(name, params, rest[1], rest[2], opaque, replace, self._sp(meta))

    def params(self, meta: Any, items: list[Any]) -> tuple[s.SParam, ...]:
        return tuple(items)

    def param(self, meta: Any, items: list[Any]) -> s.SParam:
        return s.SParam(str(items[0]), items[1], _tspan(self.f, items[0]))

    def bits_type(self, meta: Any, items: list[Any]) -> s.SType:
        return s.SType(items[0], self._sp(meta))

    def bool_type(self, meta: Any, items: list[Any]) -> s.SType:
        return s.SType(None, self._sp(meta))

    def handler_decl(self, meta: Any, items: list[Any]) -> s.SHandler:
        replace, rest = _take_replace(items)
        kind = None
        if isinstance(rest[0], Token) and rest[0].type == "TRAPKIND":
            kind = str(rest[0])
            rest = rest[1:]
        vector = s.SParam(str(rest[0]), rest[1], _tspan(self.f, rest[0]))
        return s.SHandler(kind, vector, rest[2], replace, self._sp(meta))

    def settable_decl(self, meta: Any, items: list[Any]) -> s.SSettable:
        replace, rest = _take_replace(items)
        return s.SSettable(tuple(rest), replace, self._sp(meta))

    def field_ref(self, meta: Any, items: list[Any]) -> s.SFieldRef:
        bits = [_number(t) for t in items[1:]]
        hi = bits[0] if bits else None
        lo = bits[1] if len(bits) > 1 else hi
        return s.SFieldRef(str(items[0]), hi, lo, self._sp(meta))

    def pc_decl(self, meta: Any, items: list[Any]) -> s.SPc:
        return s.SPc(str(items[0]), _tspan(self.f, items[0]))

    def remove_decl(self, meta: Any, items: list[Any]) -> s.SRemove:
        return s.SRemove(str(items[0]), self._sp(meta))

    def instruction_decl(self, meta: Any, items: list[Any]) -> s.SInstruction:
        replace, rest = _take_replace(items)
        name = str(rest[0])
        operands, clauses = _operands_and_clauses(rest[1:-1])
        return s.SInstruction(
            name, operands, clauses, rest[-1], replace, _name_span(self, meta, rest[0])
        )

    def family_decl(self, meta: Any, items: list[Any]) -> s.SFamily:
        name = str(items[0])
        params = tuple(str(t) for t in items[1:] if isinstance(t, Token))
        others = [i for i in items[1:-1] if not isinstance(i, Token)]
        operands, clauses = _operands_and_clauses(others)
        return s.SFamily(
            name, params, operands, clauses, items[-1], _name_span(self, meta, items[0])
        )

    def member_decl(self, meta: Any, items: list[Any]) -> s.SMember:
        replace, rest = _take_replace(items)
        name = str(rest[0])
        family = str(rest[1])
        args = tuple(a for a in rest[2:] if not isinstance(a, tuple))
        _, clauses = _operands_and_clauses([c for c in rest[2:] if isinstance(c, tuple)])
        return s.SMember(name, family, args, clauses, replace, _name_span(self, meta, rest[0]))

    def operands(self, meta: Any, items: list[Any]) -> tuple[str, tuple[s.SParam, ...]]:
        return ("operands", tuple(items))

    def mnemonic_clause(self, meta: Any, items: list[Any]) -> tuple[str, str]:
        return ("mnemonic", _unquote(items[0]))

    def form_clause(self, meta: Any, items: list[Any]) -> tuple[str, str]:
        return ("form", _unquote(items[0]))

    def cite_clause(self, meta: Any, items: list[Any]) -> tuple[str, str]:
        return ("cite", _unquote(items[0]))

    def where_clause(self, meta: Any, items: list[Any]) -> tuple[str, s.SExpr]:
        return ("where", items[0])

    # -- statements
    def block(self, meta: Any, items: list[Any]) -> tuple[s.SStmt, ...]:
        return tuple(i for i in items if i is not None)

    def empty_stmt(self, meta: Any, items: list[Any]) -> None:
        return None

    def assign_stmt(self, meta: Any, items: list[Any]) -> s.SAssign:
        return s.SAssign(items[0], items[1], self._sp(meta))

    def lvalue(self, meta: Any, items: list[Any]) -> s.SExpr:
        node: s.SExpr = s.SName(str(items[0]), _tspan(self.f, items[0]))
        for kind, args, sel_meta in items[1:]:
            span = Span(
                self.f, node.span.line, node.span.column, sel_meta.end_line, sel_meta.end_column
            )
            if kind == "index":
                node = s.SIndex(node, args[0], args[1] if len(args) > 1 else None, span)
            else:
                node = s.SSlice(node, args[0], args[1], span)
        return node

    def sel_index(self, meta: Any, items: list[Any]) -> tuple[str, list[Any], Any]:
        return ("index", items, meta)

    def sel_index_n(self, meta: Any, items: list[Any]) -> tuple[str, list[Any], Any]:
        return ("index", items, meta)

    def sel_slice(self, meta: Any, items: list[Any]) -> tuple[str, list[Any], Any]:
        return ("slice", items, meta)

    def physical_lvalue(self, meta: Any, items: list[Any]) -> s.SPhysical:
        return self.physical(meta, items)

    def if_stmt(self, meta: Any, items: list[Any]) -> s.SIf:
        branches = [(items[0], items[1])]
        otherwise: tuple[s.SStmt, ...] = ()
        for item in items[2:]:
            if item[0] == "elif":
                branches.append((item[1], item[2]))
            else:
                otherwise = item[1]
        return s.SIf(tuple(branches), otherwise, self._sp(meta))

    def elif_clause(self, meta: Any, items: list[Any]) -> tuple[Any, ...]:
        return ("elif", items[0], items[1])

    def else_clause(self, meta: Any, items: list[Any]) -> tuple[Any, ...]:
        return ("else", items[0])

    def trap_stmt(self, meta: Any, items: list[Any]) -> s.STrap:
        kind = str(items[0])
        vector = when = None
        for tag, value in items[1:]:
            if tag == "vector":
                vector = value
            else:
                when = value
        return s.STrap(kind, vector, when, self._sp(meta))

    def vector_clause(self, meta: Any, items: list[Any]) -> tuple[str, s.SExpr]:
        return ("vector", items[0])

    def guard(self, meta: Any, items: list[Any]) -> tuple[str, s.SExpr]:
        return ("when", items[0])

    def let_stmt(self, meta: Any, items: list[Any]) -> s.SLet:
        return s.SLet(str(items[0]), items[1], self._sp(meta))

    def unmodelled_stmt(self, meta: Any, items: list[Any]) -> s.SUnmodelled:
        return s.SUnmodelled(_unquote(items[0]), self._sp(meta))

    def execute_stmt(self, meta: Any, items: list[Any]) -> s.SExecute:
        args = tuple(a for a in items[1:] if a is not None)
        return s.SExecute(str(items[0]), args, self._sp(meta))

    # -- expressions
    def number(self, meta: Any, items: list[Any]) -> s.SNumber:
        return s.SNumber(_number(items[0]), None, self._sp(meta))

    def sized(self, meta: Any, items: list[Any]) -> s.SNumber:
        text = str(items[0]).replace("_", "")
        width_text, rest = text.split("'", 1)
        base = {"b": 2, "d": 10, "h": 16}[rest[0]]
        width = int(width_text)
        value = int(rest[1:], base)
        span = self._sp(meta)
        if width < 1 or width > 4096:
            raise SpecError((Diagnostic(span, f"literal width {width} is out of range 1..4096"),))
        if value >= 1 << width:
            raise SpecError((Diagnostic(span, f"literal {value} does not fit in {width} bits"),))
        return s.SNumber(value, width, span)

    def true(self, meta: Any, items: list[Any]) -> s.SBool:
        return s.SBool(True, self._sp(meta))

    def false(self, meta: Any, items: list[Any]) -> s.SBool:
        return s.SBool(False, self._sp(meta))

    def name(self, meta: Any, items: list[Any]) -> s.SName:
        return s.SName(str(items[0]), self._sp(meta))

    def call(self, meta: Any, items: list[Any]) -> s.SCall:
        args = tuple(a for a in items[1:] if a is not None)
        return s.SCall(str(items[0]), args, self._sp(meta))

    def physical(self, meta: Any, items: list[Any]) -> s.SPhysical:
        cells = items[2] if len(items) > 2 else None
        return s.SPhysical(str(items[0]), items[1], cells, self._sp(meta))

    def index(self, meta: Any, items: list[Any]) -> s.SIndex:
        return s.SIndex(items[0], items[1], None, self._sp(meta))

    def index_n(self, meta: Any, items: list[Any]) -> s.SIndex:
        return s.SIndex(items[0], items[1], items[2], self._sp(meta))

    def slice(self, meta: Any, items: list[Any]) -> s.SSlice:
        return s.SSlice(items[0], items[1], items[2], self._sp(meta))

    def ite(self, meta: Any, items: list[Any]) -> s.SIte:
        return s.SIte(items[0], items[1], items[2], self._sp(meta))

    def or_(self, meta: Any, items: list[Any]) -> s.SBinary:
        return s.SBinary("or", items[0], items[1], self._sp(meta))

    def and_(self, meta: Any, items: list[Any]) -> s.SBinary:
        return s.SBinary("and", items[0], items[1], self._sp(meta))

    def not_(self, meta: Any, items: list[Any]) -> s.SUnary:
        return s.SUnary("not", items[0], self._sp(meta))

    def compare(self, meta: Any, items: list[Any]) -> s.SBinary:
        return s.SBinary(str(items[1]), items[0], items[2], self._sp(meta))

    def bor(self, meta: Any, items: list[Any]) -> s.SBinary:
        return s.SBinary("|", items[0], items[1], self._sp(meta))

    def bxor(self, meta: Any, items: list[Any]) -> s.SBinary:
        return s.SBinary("^", items[0], items[1], self._sp(meta))

    def band(self, meta: Any, items: list[Any]) -> s.SBinary:
        return s.SBinary("&", items[0], items[1], self._sp(meta))

    def shift(self, meta: Any, items: list[Any]) -> s.SBinary:
        return s.SBinary(str(items[1]), items[0], items[2], self._sp(meta))

    def arith(self, meta: Any, items: list[Any]) -> s.SBinary:
        return s.SBinary(str(items[1]), items[0], items[2], self._sp(meta))

    def mul(self, meta: Any, items: list[Any]) -> s.SBinary:
        return s.SBinary("*", items[0], items[1], self._sp(meta))

    def neg(self, meta: Any, items: list[Any]) -> s.SUnary:
        return s.SUnary("-", items[0], self._sp(meta))

    def bnot(self, meta: Any, items: list[Any]) -> s.SUnary:
        return s.SUnary("~", items[0], self._sp(meta))


def _take_replace(items: list[Any]) -> tuple[bool, list[Any]]:
    if items and isinstance(items[0], Token) and items[0].type == "REPLACE":
        return True, items[1:]
    return False, items


def _name_span(t: _ToSyntax, meta: Any, token: Token) -> Span:
    return _tspan(t.f, token)


def _operands_and_clauses(items: list[Any]) -> tuple[tuple[s.SParam, ...], s.SClauses]:
    operands: tuple[s.SParam, ...] = ()
    mnemonic = form = cite = None
    where: list[s.SExpr] = []
    for tag, value in items:
        if tag == "operands":
            operands = value
        elif tag == "mnemonic":
            mnemonic = value
        elif tag == "form":
            form = value
        elif tag == "cite":
            cite = value
        else:
            where.append(value)
    return operands, s.SClauses(mnemonic, form, cite, tuple(where))


def debug_tree(text: str) -> Tree[Token]:
    """The raw lark tree of ``text`` (for grammar development only)."""
    return _parser().parse(text)


@v_args(meta=True)
class _ToProgram(Transformer[Token, Any]):
    """Builds the syntax of a guest program."""

    def __init__(self, filename: str) -> None:
        super().__init__()
        self.f = filename

    def start(self, meta: Any, items: list[Any]) -> s.SProgram:
        isa = next((i[1] for i in items if isinstance(i, tuple) and i[0] == "header"), None)
        inits = tuple(x for i in items if isinstance(i, tuple) and i[0] == "state" for x in i[1])
        lines = tuple(i for i in items if isinstance(i, s.SLine))
        return s.SProgram(isa, inits, lines, _span(self.f, meta))

    def header(self, meta: Any, items: list[Any]) -> tuple[str, str]:
        return ("header", str(items[0]))

    def state_block(self, meta: Any, items: list[Any]) -> tuple[str, tuple[s.SInit, ...]]:
        return ("state", tuple(items))

    def init(self, meta: Any, items: list[Any]) -> s.SInit:
        index = items[1] if len(items) == 3 else None
        return s.SInit(str(items[0]), index, items[-1], _span(self.f, meta))

    def index(self, meta: Any, items: list[Any]) -> s.SValue:
        return items[0]  # type: ignore[no-any-return]

    def line(self, meta: Any, items: list[Any]) -> s.SLine:
        address = label = instruction = None
        operands: tuple[tuple[str, s.SValue], ...] = ()
        halt = False
        for tag, value in items:
            if tag == "address":
                address = value
            elif tag == "label":
                label = value
            elif tag == "halt":
                halt = True
            else:
                instruction, operands = value
        return s.SLine(address, label, instruction, operands, halt, _span(self.f, meta))

    def address(self, meta: Any, items: list[Any]) -> tuple[str, s.SValue]:
        return ("address", items[0])

    def label(self, meta: Any, items: list[Any]) -> tuple[str, str]:
        return ("label", str(items[0]))

    def halt(self, meta: Any, items: list[Any]) -> tuple[str, None]:
        return ("halt", None)

    def instruction(
        self, meta: Any, items: list[Any]
    ) -> tuple[str, tuple[str, tuple[tuple[str, s.SValue], ...]]]:
        return ("instruction", (str(items[0]), tuple(items[1:])))

    def operand(self, meta: Any, items: list[Any]) -> tuple[str, s.SValue]:
        return (str(items[0]), items[1])

    def number(self, meta: Any, items: list[Any]) -> s.SValue:
        return s.SValue(_number(items[0]), None, _span(self.f, meta))

    def negative(self, meta: Any, items: list[Any]) -> s.SValue:
        return s.SValue(-_number(items[0]), None, _span(self.f, meta))

    def label_ref(self, meta: Any, items: list[Any]) -> s.SValue:
        return s.SValue(None, str(items[0]), _span(self.f, meta))
