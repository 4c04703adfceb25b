"""Imports point one way, load only what they need, and sit at the top of the module.

* Closure: each package imported in a fresh interpreter loads only what its
  layer allows (``optim``/``nn``: NumPy only; ``sweep.store``: no engine, no
  downloader; ``optimlab``: no matplotlib).
* Graph: the module-level imports of ``src/optimlab`` (read with ``ast``) form
  no cycle, and every one points down the layers
  optim/nn -> protocol -> engine -> experiments -> plots/sweep -> cli.
* No ``import`` inside a function, except of optional dependencies.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "optimlab"

_PROBE = """
import json, sys
before = set(sys.modules)  # what the interpreter itself loaded (site, .pth files)
import {module}
stdlib = set(sys.stdlib_module_names)
new = set(sys.modules) - before
print(json.dumps(sorted(m for m in new if m.split(".")[0] not in stdlib)))
"""


def loaded_by(module: str) -> set[str]:
    """Non-stdlib modules that ``import module`` adds to a fresh interpreter."""
    src = str(SRC.parent)
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": src},
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout))


def _third_party(mods: set[str]) -> set[str]:
    return {m.split(".")[0] for m in mods} - {"optimlab"}


@pytest.mark.parametrize("package", ["optimlab.optim", "optimlab.nn"])
def test_optim_and_nn_load_numpy_only(package):
    mods = loaded_by(package)
    assert _third_party(mods) == {"numpy"}
    ours = {m for m in mods if m.startswith("optimlab.")}
    assert all(m.startswith(package) for m in ours), sorted(ours)


def test_the_store_loads_no_engine_data_or_plots():
    mods = loaded_by("optimlab.sweep.store")
    assert _third_party(mods) == {"numpy"}
    assert sorted(m for m in mods if m.startswith("optimlab.")) == [
        "optimlab._lazy",
        "optimlab.sweep",
        "optimlab.sweep.store",
    ]


def test_optimlab_loads_nothing_heavy():
    mods = loaded_by("optimlab")
    assert _third_party(mods) == set()
    assert "matplotlib" not in {m.split(".")[0] for m in mods}


@pytest.mark.parametrize(
    ("module", "not_loaded"),
    [
        ("optimlab.protocol", ("optimlab.engine", "optimlab.experiments", "matplotlib")),
        ("optimlab.curves", ("optimlab.nn", "optimlab.optim", "matplotlib")),
        ("optimlab.engine", ("optimlab.experiments", "optimlab.data", "matplotlib")),
        ("optimlab.experiments", ("optimlab.engine", "optimlab.data", "matplotlib")),
        ("optimlab.data.idx", ("optimlab.data.download", "optimlab.data.loader")),
        ("optimlab.experiments.training", ("optimlab.data", "matplotlib")),
    ],
)
def test_a_package_loads_only_its_layer(module, not_loaded):
    mods = loaded_by(module)
    for name in not_loaded:
        assert not any(m == name or m.startswith(name + ".") for m in mods), name


def test_lazy_packages_export_what_all_says():
    import optimlab.data
    import optimlab.engine
    import optimlab.experiments
    import optimlab.sweep

    for pkg in (optimlab.data, optimlab.engine, optimlab.experiments, optimlab.sweep):
        for name in pkg.__all__:
            assert getattr(pkg, name) is not None, (pkg.__name__, name)
        assert set(pkg.__all__) <= set(dir(pkg))
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            _ = pkg.nope


# -- the import graph ------------------------------------------------------------------
#: layer of each module (longest matching prefix); an import may point to its own layer
#: or a lower one, never a higher one
LAYERS = {
    "optimlab": 0,
    "optimlab._lazy": 0,
    "optimlab.procutil": 0,
    "optimlab.style": 0,
    "optimlab.optim": 1,
    "optimlab.nn": 1,
    "optimlab.data": 1,
    "optimlab.functions": 1,
    "optimlab.book": 2,
    "optimlab.protocol": 2,
    "optimlab.curves": 2,
    "optimlab.engine": 3,
    "optimlab.experiments": 4,
    "optimlab.plots": 5,
    "optimlab.plots_chapter6": 5,
    "optimlab.results_io": 5,
    "optimlab.results_chapter6": 5,
    "optimlab.sweep": 6,
    "optimlab.sweep.cli": 7,
    "optimlab.cli_options": 7,
    "optimlab.cli": 7,
    "optimlab.cli_chapter6": 7,
    "optimlab.__main__": 8,
}

#: may be imported inside a function: optional extras, loaded only when used
OPTIONAL = {"distributed", "dask", "torch", "jax", "optax", "keras", "scipy", "PIL"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = ["optimlab", *path.relative_to(SRC).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module is imported (``if TYPE_CHECKING:`` blocks excluded)."""
    out: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            todo += node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody
            todo += [s for h in node.handlers for s in h.body]
    return out


def _targets(module: str, is_pkg: bool, node: ast.Import | ast.ImportFrom, known) -> set[str]:
    """The optimlab modules an import statement loads."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = module.split(".") if is_pkg else module.split(".")[:-1]
        if node.level:
            base = base[: len(base) - (node.level - 1)]
            stem = ".".join([*base, *([node.module] if node.module else [])])
        else:
            stem = node.module or ""
        names = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in known else stem for a in node.names]
    return {n for n in names if n.split(".")[0] == "optimlab"}


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_pkg = path.name == "__init__.py"
        graph[name] = set()
        for node in _top_level_imports(tree):
            graph[name] |= _targets(name, is_pkg, node, mods)
        graph[name].discard(name)
    return graph


def _home(module: str) -> str:
    """The longest prefix of ``module`` in :data:`LAYERS`."""
    return max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)


def _layer(module: str) -> int:
    return LAYERS[_home(module)]


def test_every_module_has_a_layer():
    missing = [m for m in _modules() if m != "optimlab" and _home(m) == "optimlab"]
    assert not missing, f"place these in LAYERS: {missing}"


def test_imports_point_down_the_layers():
    up = [
        f"{m} ({_layer(m)}) imports {t} ({_layer(t)})"
        for m, targets in import_graph().items()
        for t in sorted(targets)
        if _layer(t) > _layer(m)
    ]
    assert not up, "\n".join(up)


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                cycle = [*path[path.index(t) :], t]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_the_graph_sees_known_edges():
    # the checks above mean something only if the graph holds real imports
    graph = import_graph()
    assert "optimlab.protocol" in graph["optimlab.engine.runner"]
    assert "optimlab.engine.net" in graph["optimlab.engine.runner"]
    assert "optimlab.nn.layers" in graph["optimlab.protocol"]
    assert "optimlab.experiments.training" in graph["optimlab.experiments.compare"]


def test_no_imports_inside_functions():
    found = []
    for name, path in _modules().items():
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    roots = {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom):
                    roots = {"." if node.level else (node.module or "").split(".")[0]}
                else:
                    continue
                if not roots <= OPTIONAL:
                    found.append(f"{name}:{node.lineno} in {fn.name}()")
    assert not found, "imports inside functions:\n" + "\n".join(found)
