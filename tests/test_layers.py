"""The package's layers import only the layers before them, and no module imports itself
back through others: core and layouts -> runtime -> families -> analysis -> io -> app ->
cli (docs/architecture.md)."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pose"
# Layer of each top-level room; a module may import its own layer and those below it.
LAYERS = {"core": 0, "layouts": 1, "runtime": 2, "families": 3, "analysis": 4, "io": 5, "app": 6, "download": 6,
          "cli": 7, "eval": 8, "entry": 8, "cli_reference": 8, "__init__": 8, "__main__": 8}


def _modules():
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("pose",) + path.relative_to(PACKAGE).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _imports(modules):
    """module -> the package's modules it imports at any level of its code."""
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith("pose") and target not in (name, "pose"):
                    found.add(target)
        graph[name] = found
    return graph


def _layer(module):
    room = module.split(".")[1] if "." in module else "__init__"
    return LAYERS[room]


def test_every_module_imports_only_its_layer_and_those_below():
    graph = _imports(_modules())
    upward = sorted(f"{m} -> {t}" for m, targets in graph.items() for t in targets if _layer(t) > _layer(m))
    assert upward == []


def test_no_module_imports_itself_back_through_others():
    graph = _imports(_modules())
    state, circles = {}, []

    def visit(module, trail):
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                circles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []
