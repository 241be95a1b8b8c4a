"""The architecture as a test: packages in layers, arrows only pointing down, no import
circles, small modules. The layers, lowest first:

    app.audio            sound: the feature contract, STFT, vocoder, pitch, formats
    app.synthesis        the model bundle, voices and the synthesizer (on app.audio)
    app.core             settings (on app.audio)
    app.api              the request path: routes, schemas, errors, limits, metrics
    app.main, app.serve  the app factory and the serve command
    training.data        loading, augmentation, synthetic voices (on app)
    training.models      architectures, fit, export, latents and voices
    training.evaluation  instruments, measures and reports
    training.cli         the command line on top (python -m training)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [
    ["app.audio"],
    ["app.synthesis", "app.core"],
    ["app.api"],
    ["app.main", "app.serve"],
    ["training.data"],
    ["training.models"],
    ["training.evaluation"],
    ["training.cli"],
    ["training.__main__"],
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MAX_LINES = 300


def modules() -> dict[str, Path]:
    found = {}
    for package in ("app", "training", "benchmarks", "tests"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """Project modules a file imports, wherever the import statement sits."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in known and name not in ("app", "training")}


def layer_of(module: str) -> str | None:
    for name in sorted(RANK, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    return None


GRAPH = {name: imports_of(path, modules()) for name, path in modules().items()}


@pytest.mark.parametrize("package", ["app", "training"])
def test_arrows_only_point_down(package: str) -> None:
    wrong = []
    for module, targets in GRAPH.items():
        if not module.startswith(package + ".") or layer_of(module) is None:
            continue
        here = layer_of(module)
        for target in targets:
            there = layer_of(target)
            if there is None or there == here:
                continue
            if RANK[there] >= RANK[here]:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports that point up or sideways:\n" + "\n".join(sorted(wrong))


def test_every_module_sits_in_a_layer() -> None:
    loose = [
        m
        for m in GRAPH
        if m.split(".")[0] in ("app", "training") and m not in ("app", "training")
        and layer_of(m) is None
    ]
    assert not loose, f"modules outside the layers: {loose}"


def test_no_import_circles() -> None:
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    circles: list[list[str]] = []

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == 1:
                circles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target, [*stack, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_no_module_over_300_lines() -> None:
    long = {
        name: n
        for name, path in modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_feature_contract_imports_neither_tensorflow_nor_fastapi() -> None:
    for name in ("app.audio.contract", "app.audio.decoding", "app.audio.stft"):
        tree = ast.parse(modules()[name].read_text())
        roots = {
            (n.module if isinstance(n, ast.ImportFrom) else a.name).split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom) and getattr(n, "module", "x")
            for a in (n.names if isinstance(n, ast.Import) else n.names[:1])
        }
        assert not roots & {"tensorflow", "keras", "fastapi", "starlette"}, (name, roots)
