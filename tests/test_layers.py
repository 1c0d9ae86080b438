"""The house's rooms and which way they point: every module imports only its own room and the rooms below.

Read with ast over every module of the package, imports inside functions too (a lazy import is
still a dependency: it only moves the moment it is paid). A package's own `__init__` importing its
submodules is not counted against them (that is how a package is made), but any other import is.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "attune"

#: The rooms, lowest first. A module may import its own room and the rooms before it.
ROOMS = ("system", "settings", "script", "plan", "audio", "speech", "media", "render", "delivery", "checks", "cli")

#: Modules at the top of the package, by room. Packages (`attune/system/`, …) are rooms by their name.
TOP_LEVEL = {
    "errors": "system",  # the one exception family, under everything
    "version": "system",
    "durations": "system",  # `1m30s` ↔ seconds
    "slugs": "system",
    "timebase": "system",  # the track's sample rate and frame arithmetic
    "settings": "settings",
    "formats": "settings",  # the format table the settings check names against
    "library": "script",  # the built-in practices (scripts) and bundled sounds
    "plan": "plan",
    "render": "render",
    "request": "render",  # what a render is asked, and its fingerprint
    "audition": "render",  # `attune voices --sample`: one rendered clip per voice
    "align": "render",  # `attune align`: a take against its script, before any render
    "__main__": "cli",
    "": "cli",  # the package itself: `attune.render(...)`, the library's face beside the command's
}


def modules() -> dict[str, tuple[Path, bool]]:
    """`attune.x.y` → (file, is a package)."""
    found = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def room_of(module: str) -> str:
    parts = module.split(".")[1:]
    if len(parts) >= 2 or (parts and parts[0] in ROOMS and parts[0] not in TOP_LEVEL):
        return parts[0]
    name = parts[0] if parts else ""
    assert name in TOP_LEVEL, f"attune.{name} is in no room: add it to a package, or to TOP_LEVEL in {Path(__file__).name}"
    return TOP_LEVEL[name]


def imports_of(module: str, path: Path, package: bool, known: set[str]) -> dict[str, int]:
    """The attune modules `module` imports (→ the first line that does), at any depth of the file."""
    base = module if package else module.rpartition(".")[0]
    found: dict[str, int] = {}

    def add(name: str, line: int) -> None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module and not (package and name.startswith(module + ".")):
            found.setdefault(name, line)

    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "attune":
                    add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base.split(".")
                target = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "attune":
                continue
            for alias in node.names:  # `from . import render`: the module itself
                add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target, node.lineno)
    return found


def graph() -> dict[str, dict[str, int]]:
    found = modules()
    known = set(found)
    return {module: imports_of(module, path, package, known) for module, (path, package) in found.items()}


def test_every_module_has_a_room():
    for module in modules():
        assert room_of(module) in ROOMS, module


def test_no_import_points_up():
    upward = []
    for module, targets in sorted(graph().items()):
        mine = ROOMS.index(room_of(module))
        for target, line in sorted(targets.items()):
            theirs = ROOMS.index(room_of(target))
            if theirs > mine:
                path = modules()[module][0].relative_to(SRC.parent)
                upward.append(f"{path}:{line}: {module} ({ROOMS[mine]}) imports {target} ({ROOMS[theirs]}), a room above it")
    assert not upward, "\n".join(upward)


def find_circles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_no_circles():
    circles = find_circles(graph())
    assert not circles, "import circles: " + "; ".join(" ↔ ".join(group) for group in circles)


@pytest.mark.parametrize(
    ("edges", "circles"),
    [
        ({"a": {"b": 1}, "b": {"c": 1}, "c": {}}, []),
        ({"a": {"b": 1}, "b": {"a": 1}}, [["a", "b"]]),
        ({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}, [["a", "b", "c"]]),
    ],
)
def test_the_circle_finder_finds_circles(edges, circles):
    assert find_circles(edges) == circles


def test_the_reader_sees_function_level_and_relative_imports(tmp_path):
    # A lazy import inside a function counts, and `from .. import x` resolves from the file's package.
    path = tmp_path / "m.py"
    path.write_text("def f():\n    from ..render import render\n    from . import access\n")
    known = {"attune.render", "attune.cli", "attune.cli.access", "attune.cli.m"}
    assert imports_of("attune.cli.m", path, False, known) == {"attune.render": 2, "attune.cli.access": 3}


def function_lengths(folder: Path) -> list[tuple[int, str]]:
    """(lines, `file:line name`) of every function and method under `folder`, longest first."""
    found = []
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                found.append((node.end_lineno - node.lineno + 1, f"{path.relative_to(SRC)}:{node.lineno} {node.name}"))
    return sorted(found, reverse=True)


def test_delivery_functions_stay_short():
    # The batch was once one 223-line function with five closures: the runner's steps stay readable.
    longest = function_lengths(SRC / "delivery")
    assert longest[0][0] < 80, longest[:3]
    runner = [row for row in longest if row[1].startswith(("delivery/runner.py", "delivery/executor.py"))]
    assert runner[0][0] <= 60, runner[:3]


def test_every_package_docstring_lists_its_modules():
    # A newcomer reads a package's docstring to find their way: it names every module and subpackage
    # (`name.py`, `name/`), and none that is gone.
    wrong = []
    for init in sorted(SRC.rglob("__init__.py")):
        folder = init.parent
        doc = ast.get_docstring(ast.parse(init.read_text("utf-8"))) or ""
        modules = {p.name for p in folder.glob("*.py") if p.name != "__init__.py"}
        packages = {p.name + "/" for p in folder.iterdir() if (p / "__init__.py").is_file()}
        for name in sorted(modules | packages):
            if name not in doc:
                wrong.append(f"{init.relative_to(SRC.parent)}: the docstring does not name {name}")
        for named in sorted(set(re.findall(r"\b([a-z_0-9]+\.py)\b", doc)) - modules):
            if not (SRC / named).is_file() and not any(folder.rglob(named)):
                wrong.append(f"{init.relative_to(SRC.parent)}: the docstring names {named}, which is not there")
    assert not wrong, "\n".join(wrong)
