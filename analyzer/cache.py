"""Analyses kept on disk, keyed by content: the spec's sources, the solver budget, and the
versions of pgv and z3. A cached analysis renders byte for byte as a fresh one."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Callable
from concurrent.futures import Executor
from importlib import metadata
from pathlib import Path

from analyzer import ir
from analyzer.analysis import ANALYSIS_VERSION, analyze
from analyzer.results import PROPERTIES, Analysis, Verdict
from analyzer.serialize import analysis_from_dict, analysis_to_dict


def cache_dir() -> Path:
    """``$PGV_CACHE_DIR``, else ``$XDG_CACHE_HOME/pgv``, else ``~/.cache/pgv``."""
    explicit = os.environ.get("PGV_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pgv"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


# What an analysis is computed from, and how it is kept: these modules and every pgv module
# they import (renderers, the CLI and the executable model are not among them, so changing
# how results are shown or run never discards analyses).
_ANALYSIS_ROOTS = ("analysis.py", "serialize.py", "cache.py")
_IMPORT = re.compile(
    rb"^[ \t]*(?:from\s+analyzer((?:\.\w+)*)\s+import\s+(\([^)]*\)|[^\n]*)"
    rb"|import\s+analyzer((?:\.\w+)+))",
    re.M,
)


@functools.cache
def _code_digest() -> str:
    """A hash of the pgv code an analysis depends on (and the grammar): a changed analyzer
    never reads old results."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(analysis_modules(package)) + sorted(package.rglob("*.lark")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def analysis_modules(package: Path) -> set[Path]:
    """The files of :data:`_ANALYSIS_ROOTS` and of the pgv modules they import, transitively.
    Package ``__init__`` files are included but not followed: they re-export names (and
    attach notebook rendering), they compute nothing an analysis holds."""
    found: set[Path] = set()
    todo = [package / root for root in _ANALYSIS_ROOTS]
    while todo:
        path = todo.pop()
        if path in found or not path.is_file():
            continue
        found.add(path)
        if path.name != "__init__.py":
            todo.extend(_imported_files(package, path.read_bytes()))
    return found


def _imported_files(package: Path, source: bytes) -> list[Path]:
    files = []
    for match in _IMPORT.finditer(source):
        dotted = (match.group(1) or match.group(3) or b"").decode().strip(".")
        parts = dotted.split(".") if dotted else []
        names = re.findall(r"\w+", (match.group(2) or b"").decode())
        # ``from analyzer.x import y`` may name a submodule y or an attribute of x: try both.
        for candidate in [parts, *([*parts, name] for name in names)]:
            files.extend(_module_files(package, candidate))
    return files


def _module_files(package: Path, parts: list[str]) -> list[Path]:
    """The package ``__init__`` files along ``parts`` and the module file itself."""
    files = [package.joinpath(*parts[:depth], "__init__.py") for depth in range(len(parts) + 1)]
    if parts:
        files.append(package.joinpath(*parts[:-1], f"{parts[-1]}.py"))
    return [f for f in files if f.is_file()]


def cache_key(isa: ir.Isa, timeout_ms: int) -> str:
    """What an analysis depends on, hashed."""
    parts = [
        ANALYSIS_VERSION,
        isa.digest,
        isa.source,
        str(timeout_ms),
        _code_digest(),
        _version("z3-solver"),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def load(key: str) -> Analysis | None:
    """The cached analysis for ``key``, or None (also when the entry is unreadable)."""
    path = cache_dir() / f"{key}.json"
    try:
        return analysis_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(key: str, analysis: Analysis) -> None:
    """Keep ``analysis`` under ``key``; a cache that cannot be written is skipped silently,
    since it only saves time."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f"{key}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(analysis_to_dict(analysis)), encoding="utf-8")
        temporary.replace(folder / f"{key}.json")
    except OSError:
        pass


def analyze_cached(
    isa: ir.Isa,
    *,
    timeout_ms: int,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    use_cache: bool = True,
) -> Analysis:
    """:func:`analyze`, served from the cache when the same spec was analysed before.

    Analyses in which the solver gave up somewhere are not kept: a timeout may be decided on
    a later run (a less loaded machine)."""
    if use_cache and (hit := cached(isa, timeout_ms)) is not None:
        return hit
    analysis = analyze(isa, timeout_ms=timeout_ms, executor=executor, progress=progress)
    if use_cache:
        remember(isa, analysis)
    return analysis


def cached(isa: ir.Isa, timeout_ms: int) -> Analysis | None:
    """The cached analysis of ``isa`` at this solver budget, if there is one."""
    return load(cache_key(isa, timeout_ms))


def remember(isa: ir.Isa, analysis: Analysis) -> None:
    """Keep ``analysis`` of ``isa`` unless the solver gave up somewhere in it."""
    if not solver_gave_up(analysis):
        store(cache_key(isa, analysis.timeout_ms), analysis)


def solver_gave_up(analysis: Analysis) -> bool:
    """Some modelled instruction has an UNKNOWN finding (a timeout another run may decide)."""
    return any(
        r.finding(prop).verdict is Verdict.UNKNOWN
        for r in analysis.instructions
        if r.unmodelled is None
        for prop, _ in PROPERTIES
    )


# The header's ``extends "BASE"``: enough to find every file a spec is made of without parsing
# it (a file this misreads only costs a cache miss: the index entry is checked by content).
_EXTENDS = re.compile(rb'^\s*isa\s+\S+(?:\s+"(?:[^"\\\n]|\\.)*")?\s+extends\s+"([^"\n]+)"', re.M)


def source_key(path: str, timeout_ms: int) -> str | None:
    """What an analysis of the spec at ``path`` depends on, hashed from the files' bytes
    before any parsing (the spec and those it extends), or None when one cannot be read."""
    parts = [ANALYSIS_VERSION, path, str(timeout_ms), _code_digest(), _version("z3-solver")]
    current, seen = Path(path), set[Path]()
    while current not in seen:
        seen.add(current)
        try:
            data = current.read_bytes()
        except OSError:
            return None
        parts.append(hashlib.sha256(data).hexdigest())
        match = _EXTENDS.search(data)
        if match is None:
            break
        current = current.parent / match.group(1).decode("utf-8", "replace")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def cached_by_source(path: str, timeout_ms: int) -> Analysis | None:
    """The analysis of the spec at ``path`` if its files are byte for byte those of one
    analysed before: no parsing needed."""
    key = source_key(path, timeout_ms)
    if key is None:
        return None
    try:
        analysis_key = (cache_dir() / "by-source" / key).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return load(analysis_key)


def remember_source(path: str, isa: ir.Isa, timeout_ms: int) -> None:
    """Point the spec's files (as :func:`source_key` hashes them) at its cached analysis."""
    key = source_key(path, timeout_ms)
    if key is None:
        return
    folder = cache_dir() / "by-source"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / key).write_text(cache_key(isa, timeout_ms), encoding="utf-8")
    except OSError:
        pass
