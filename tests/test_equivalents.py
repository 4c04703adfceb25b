"""The table of library equivalents is complete, consistent, and the docs are made from it.

No library is needed: these check the data of ``optimlab.optim.equivalents``
(every rule and schedule covered, every library answered, every spec valid) and
that README.md and docs/conventions.md hold exactly what ``scripts/gen_docs.py``
generates from it.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from optimlab import optim
from optimlab.optim import equivalents, schedules
from optimlab.optim.equivalents import LIBRARIES, TABLE, TOL, Match, NoMatch

ROOT = Path(__file__).resolve().parent.parent
RULE_ROWS = [r for r in TABLE if not r.is_schedule]
SCHEDULE_ROWS = [r for r in TABLE if r.is_schedule]


def _load_gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ids_are_unique_and_start_with_the_rule_or_schedule_name():
    ids = [r.id for r in TABLE]
    assert len(ids) == len(set(ids))
    for r in RULE_ROWS:
        assert r.id == r.rule or r.id.startswith(r.rule + "-"), r.id
    for r in SCHEDULE_ROWS:
        assert r.schedule is not None
        assert r.id.split("-")[0] == r.schedule.name.lower(), r.id


def test_every_rule_has_default_and_non_default_rows():
    for name in optim.names():
        rows = [r for r in RULE_ROWS if r.rule == name]
        assert any(r.spec == name and r.schedule is None for r in rows), f"{name}: no defaults row"
        assert any(":" in r.spec for r in rows), f"{name}: no row with non-default hyperparameters"


@pytest.mark.parametrize("lib", LIBRARIES)
def test_every_rule_has_an_equal_call_or_a_stated_reason_per_library(lib):
    for name in optim.names():
        entries = [r.entry(lib) for r in RULE_ROWS if r.rule == name]
        if not any(isinstance(e, Match) for e in entries):
            assert all(isinstance(e, NoMatch) and len(e.reason) > 10 for e in entries), (name, lib)
    for r in TABLE:
        e = r.entry(lib)
        assert isinstance(e, Match) or e.reason.strip(), (r.id, lib)
        if isinstance(e, Match):
            assert e.call.lib == lib, (r.id, lib, e.call)


def test_pytorch_has_no_lion_and_says_so():
    lion = [r for r in RULE_ROWS if r.rule == "lion"]
    assert lion and all(isinstance(r.torch, NoMatch) for r in lion)
    assert all("Lion" in r.torch.reason for r in lion if isinstance(r.torch, NoMatch))


def test_every_schedule_has_a_row_over_a_horizon():
    covered = {r.schedule.name for r in SCHEDULE_ROWS if r.schedule is not None}
    assert covered == set(schedules.__all__)
    assert all(r.horizon >= 1 for r in SCHEDULE_ROWS)


def test_every_spec_and_schedule_builds_and_round_trips():
    for r in TABLE:
        name, kwargs = optim.parse_spec(r.spec)
        opt = optim.create(r.spec)
        assert opt.name == name == r.rule
        hp = opt.hyperparameters()
        assert all(hp[k] == v for k, v in kwargs.items()), r.id
        if r.schedule is not None:
            assert callable(r.schedule.build()), r.id


def test_bounds_above_tol_state_their_cause():
    for r in TABLE:
        for lib in LIBRARIES:
            e = r.entry(lib)
            if isinstance(e, Match):
                assert e.tol >= TOL
                assert e.tol == TOL or e.tol_cause, (r.id, lib)


def test_a_looser_bound_without_a_cause_is_refused():
    with pytest.raises(ValueError, match="needs its cause"):
        Match(equivalents.call("optax.sgd", learning_rate=0.1), tol=1e-6)
    with pytest.raises(ValueError, match="unknown per_step"):
        Match(equivalents.call("optax.sgd", learning_rate=0.1), per_step="nope")


def test_the_calls_print_as_python():
    for r in TABLE:
        for lib in LIBRARIES:
            e = r.entry(lib)
            if isinstance(e, Match):
                for c in (e.call, e.scheduler):
                    if c is not None:
                        ast.parse(str(c).replace("math.inf", "1e999"))  # valid call syntax


def test_equivalents_imports_no_library():
    tree = ast.parse(Path(equivalents.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert imported.isdisjoint({"torch", "jax", "optax", "keras", "numpy"})


@pytest.mark.parametrize("target", ["README.md", "docs/conventions.md"])
def test_committed_docs_are_what_the_table_generates(target):
    gen_docs = _load_gen_docs()
    path = ROOT / target
    assert gen_docs.render(path) == path.read_text(encoding="utf-8"), (
        f"{target} differs from optimlab.optim.equivalents: run python scripts/gen_docs.py"
    )
