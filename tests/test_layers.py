"""The package's layer order (docs/architecture.md), checked over every import.

Each top-level unit of `consent_service` belongs to a layer; a module may import its own
unit and the layers before it, never a later one. Imports inside functions count too: a
lazy import is still a dependency, only a hidden one. Inside a domain, nothing outside it
imports its views or API modules.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "consent_service"

# Lowest first. The app factory and the console script sit above everything.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "config",
            "db",
            "mail",
            "hashing",
            "metrics",
            "ratelimit",
            "retention",
            "schema",
            "web",
            "health",
            "cli",
            "deploy_check",
        }
    ),
    frozenset({"sites"}),
    frozenset({"admin"}),
    frozenset({"audit"}),
    frozenset({"consent"}),
    frozenset({"analytics", "ideas", "scanner"}),
    frozenset({"embed", "demo"}),
    frozenset({"__init__", "models", "__main__"}),
)
# Modules other domains may not import: the HTTP edge of a domain.
EDGE_MODULES = frozenset({"views", "admin_views", "api"})


def layer_of(unit: str) -> int:
    for index, units in enumerate(LAYERS):
        if unit in units:
            return index
    raise AssertionError(f"consent_service.{unit} belongs to no layer: add it to LAYERS")


@dataclass(frozen=True)
class Import:
    source: str  # dotted module that imports
    target: str  # dotted module (or module.name) imported
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


def module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def unit_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    if not (PACKAGE / parts[1]).is_dir() and not (PACKAGE / f"{parts[1]}.py").exists():
        return "__init__"  # a name defined in the package's __init__, e.g. create_app
    return parts[1]


def imports_in(path: Path, package: Path) -> list[Import]:
    """Every absolute import of our own package in a file, at any depth."""
    source = module_name(path, package)
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "consent_service":
                names = [f"consent_service.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        else:
            continue
        found += [Import(source, n, node.lineno) for n in names if n.startswith("consent_service")]
    return found


def package_imports(package: Path = PACKAGE) -> list[Import]:
    files = [p for p in package.rglob("*.py") if "migrations" not in p.relative_to(package).parts]
    return [imp for path in sorted(files) for imp in imports_in(path, package)]


def violations(imports: list[Import]) -> list[str]:
    found = []
    for imp in imports:
        source, target = unit_of(imp.source), unit_of(imp.target)
        if source == target:
            continue
        if layer_of(target) > layer_of(source):
            found.append(f"{imp}: layer {layer_of(source)} may not use layer {layer_of(target)}")
        elif layer_of(target) == layer_of(source) and source not in LAYERS[0] | LAYERS[-1]:
            found.append(f"{imp}: {source} and {target} are siblings; neither uses the other")
        target_parts = imp.target.split(".")
        if len(target_parts) >= 3 and target_parts[2] in EDGE_MODULES and source != "__init__":
            found.append(f"{imp}: another domain's HTTP edge ({target_parts[2]})")
    return found


def test_every_import_follows_the_layer_order() -> None:
    assert violations(package_imports()) == []


def test_every_top_level_unit_has_a_layer() -> None:
    units = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    units = {u for u in units if not u.startswith((".", "_")) or u in {"__init__", "__main__"}}
    units -= {"migrations", "templates", "static", "policy", "py"}
    for unit in sorted(units):
        if (PACKAGE / unit).is_dir() or (PACKAGE / f"{unit}.py").exists():
            layer_of(unit)


@pytest.mark.parametrize(
    ("source", "code", "message"),
    [
        ("consent/services.py", "from consent_service.ideas import services", "may not use"),
        (
            "audit/chain.py",
            "def f():\n    from consent_service.consent import cookie",
            "may not use",
        ),
        ("ideas/services.py", "import consent_service.analytics.rollup", "siblings"),
        ("analytics/services.py", "from consent_service.consent.api import x", "HTTP edge"),
        ("db.py", "from consent_service.admin.models import User", "may not use"),
    ],
)
def test_a_wrong_import_is_found(tmp_path: Path, source: str, code: str, message: str) -> None:
    """The check itself can fail: a planted wrong import is reported, lazy ones included."""
    target = tmp_path / "consent_service" / source
    target.parent.mkdir(parents=True)
    target.write_text(code + "\n", encoding="utf-8")
    found = violations(package_imports(tmp_path / "consent_service"))
    assert len(found) == 1 and message in found[0], found


def test_no_cycle_between_top_level_units() -> None:
    """Follows from the layer order, checked directly so a LAYERS edit cannot hide one."""
    graph: dict[str, set[str]] = {}
    for imp in package_imports():
        source, target = unit_of(imp.source), unit_of(imp.target)
        if source != target:
            graph.setdefault(source, set()).add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    assert [u for u in sorted(graph) if reaches(u, u, {u})] == []
