"""The import graph keeps the layering of shared/DESIGN.md (issue 10): data flows channel →
engine → workflows → analysis / jobs, and no lower room reaches up. Every import counts, also
those inside functions and under TYPE_CHECKING: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "statbot"

# room → rooms it must never import (top-level rooms of statbot/; "channels.x" for a channel).
FORBIDDEN: dict[str, set[str]] = {
    "engine": {
        "analysis",
        "workflows",
        "channels",
        "jobs",
        "sandbox",
        "ops",
        "app",
        "wiring",
        "cli",
        "testing",
        "kb",
        "access",
    },
    "analysis": {
        "engine",
        "workflows",
        "channels",
        "jobs",
        "sandbox",
        "ops",
        "app",
        "wiring",
        "cli",
        "testing",
    },
    "jobs": {"workflows", "channels", "sandbox", "app", "wiring", "cli", "testing"},
    "workflows": {"channels", "sandbox", "ops", "app", "wiring", "cli", "testing"},
    "channels": {"workflows", "analysis", "jobs", "sandbox", "app", "wiring", "cli", "testing"},
    "sandbox": {
        "engine",
        "workflows",
        "analysis",
        "jobs",
        "channels",
        "ops",
        "app",
        "wiring",
        "cli",
        "testing",
    },
    "ops": {"workflows", "analysis", "channels", "sandbox", "app", "wiring", "cli", "testing"},
    # The knowledge base is content and search: it knows no conversation, transport or job
    # (issue 13). Workflows and the CLI build on it.
    "kb": {
        "engine",
        "analysis",
        "workflows",
        "channels",
        "jobs",
        "sandbox",
        "ops",
        "app",
        "wiring",
        "cli",
        "testing",
        "access",
    },
    # Accounts and access (issue 12): the catalog database and what lives on it. Workflows and
    # the wiring build on it; it knows no conversation step, transport or server.
    "access": {"workflows", "channels", "sandbox", "ops", "app", "wiring", "cli", "testing", "kb"},
}
FORBIDDEN["channels"].add("access")
FORBIDDEN["sandbox"].add("access")
# Analysis stays usable without a database (statbot analyze, the job worker's pure functions):
# the dataset store is written against its DatasetIndex contract, and whoever builds it hands
# in the catalog's implementation (access/storage.py). Jobs may import access: the local
# runner's job table is the catalog's ``jobs`` table (issue 12).
FORBIDDEN["analysis"].add("access")
# Rooms with no business reading the knowledge base (the chat reaches it through workflows).
for _room_name in ("analysis", "jobs", "channels", "sandbox", "ops"):
    FORBIDDEN[_room_name].add("kb")


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _module_of(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = _module_of(path) if path.name == "__init__.py" else _module_of(path).rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
    return {name for name in found if name == "statbot" or name.startswith("statbot.")}


def _edges() -> list[tuple[str, str]]:
    edges = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_of(path)
        for target in _imports(path):
            edges.append((module, target))
    return edges


def _room_of_module(module: str) -> str:
    room = _room(module)
    if room == "channels" and module.split(".")[2:3] == ["sandbox"]:
        return "sandbox"  # the emulator is a server, not a channel, wherever it lives
    return room


def test_no_import_breaks_the_layering() -> None:
    broken = []
    for source, target in _edges():
        room, other = _room_of_module(source), _room_of_module(target)
        if room != other and other in FORBIDDEN.get(room, set()):
            broken.append(f"{source} → {target}")
    assert not broken, "imports against the layering:\n" + "\n".join(broken)


@pytest.mark.parametrize("limit", [330])
def test_no_module_is_too_long_to_read_in_one_sitting(limit: int) -> None:
    """STYLE.md: aim under ~300 lines (a margin for docstrings); split by concept."""
    long = {
        str(path.relative_to(SRC)): n
        for path in SRC.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > limit
    }
    assert not long, long
