"""The import layering of ARCHITECTURE.md holds: imports flow one way."""

from __future__ import annotations

import ast
from pathlib import Path

ANALYZER = Path(__file__).resolve().parent.parent / "analyzer"

# Lower ranks may not import higher ones. Same rank: allowed.
RANK = {
    "analyzer.errors": 0,
    "analyzer.ir": 0,
    "analyzer.syntax": 0,
    "analyzer.results": 0,
    "analyzer.serialize": 0,
    "analyzer.literature": 0,
    "analyzer.parse": 1,
    "analyzer.validate": 2,
    "analyzer.pretty": 2,
    "analyzer.programs": 2,
    "analyzer.smt": 3,
    "analyzer.interp": 3,
    "analyzer.classify": 4,
    "analyzer.theorems": 4,
    "analyzer.vmm": 4,
    "analyzer.witness": 4,
    "analyzer.analysis": 5,
    "analyzer.context": 5,
    "analyzer.diff": 5,
    "analyzer.cache": 5,
    "analyzer.graphs": 5,
    "analyzer.strategies": 5,
    "analyzer.confirm": 5,
    "analyzer.report": 6,
    "analyzer.cli": 7,
    "analyzer": 8,
    "analyzer.__main__": 8,
}
ONLY_IMPORTER = {"lark": ("analyzer.parse",), "z3": ("analyzer.smt",)}
RENDERERS_MAY_NOT_IMPORT = (
    "analyzer.parse",
    "analyzer.validate",
    "analyzer.smt",
    "analyzer.classify",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ANALYZER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rank(module: str) -> int:
    best = None
    for prefix, value in RANK.items():
        if (module == prefix or module.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best[0])
        ):
            best = (prefix, value)
    assert best is not None, f"{module} has no layer: add it to RANK in {__file__}"
    return best[1]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {
                f"{node.module}.{alias.name}" for alias in node.names if node.module == "analyzer"
            }
    return found


def test_imports_flow_one_way() -> None:
    problems = []
    for path in sorted(ANALYZER.rglob("*.py")):
        importer = module_name(path)
        for imported in imports(path):
            root = imported.split(".")[0]
            if root in ONLY_IMPORTER and not importer.startswith(ONLY_IMPORTER[root]):
                problems.append(f"{importer} imports {root}")
            if root != "analyzer" or imported == "analyzer":
                continue
            if rank(imported) > rank(importer):
                problems.append(
                    f"{importer} (layer {rank(importer)}) imports {imported} "
                    f"(layer {rank(imported)})"
                )
            if importer.startswith("analyzer.report") and imported.startswith(
                RENDERERS_MAY_NOT_IMPORT
            ):
                problems.append(f"renderer {importer} imports {imported}")
    assert not problems, "\n".join(problems)


def test_classifier_never_reads_the_literature() -> None:
    for path in sorted(ANALYZER.rglob("*.py")):
        importer = module_name(path)
        if importer.startswith(
            (
                "analyzer.smt",
                "analyzer.classify",
                "analyzer.theorems",
                "analyzer.analysis",
                "analyzer.validate",
            )
        ):
            assert not any(i.startswith("analyzer.literature") for i in imports(path)), importer


def test_every_module_has_a_layer() -> None:
    for path in ANALYZER.rglob("*.py"):
        rank(module_name(path))


def test_cache_key_covers_every_module_an_analysis_imports() -> None:
    """The cache's code digest (found by a scan of import lines) holds every pgv module the
    analysis roots import by the syntax tree, so no change to analysis code is missed, and
    no renderer, so a change to how results are shown keeps the cached analyses."""
    from analyzer.cache import _ANALYSIS_ROOTS, analysis_modules

    covered = {module_name(p) for p in analysis_modules(ANALYZER)}
    todo = [module_name(ANALYZER / root) for root in _ANALYSIS_ROOTS]
    reached: set[str] = set()
    while todo:
        module = todo.pop()
        if module in reached:
            continue
        reached.add(module)
        path = ANALYZER.parent.joinpath(*module.split("."))
        source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        if source.is_file() and source.name != "__init__.py":
            todo.extend(m for m in imports(source) if m.startswith("analyzer.") and _is_module(m))
    assert reached <= covered, sorted(reached - covered)
    assert not any(m.startswith(("analyzer.report", "analyzer.cli")) for m in covered)


def _is_module(dotted: str) -> bool:
    path = ANALYZER.parent.joinpath(*dotted.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()
