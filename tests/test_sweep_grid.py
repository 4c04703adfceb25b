"""The sweep's plan: learning-rate grid, run ids, seeds, and the choice of learning rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimlab.sweep import DEFAULT_LRS, Choice, SweepPlan, parse_lrs, select_best
from optimlab.sweep.grid import final_smoothed, run_seed, time_to_target
from optimlab.sweep.report import t_quantile_975
from sweep_helpers import tiny_plan


def test_default_grid_is_13_log_spaced_points_from_1e4_to_1():
    assert len(DEFAULT_LRS) == 13
    assert DEFAULT_LRS[0] == 1e-4 and DEFAULT_LRS[-1] == 1.0 and 0.001 in DEFAULT_LRS
    np.testing.assert_allclose(np.diff(np.log10(DEFAULT_LRS)), 1 / 3, rtol=1e-5)


def test_parse_lrs_sorts_and_rejects_bad_values():
    assert parse_lrs("0.1, 0.001,0.01,0.1") == (0.001, 0.01, 0.1)
    for bad in ("0.1,abc", "0,0.1", "-1", "nan", ""):
        with pytest.raises(ValueError, match="learning rate"):
            parse_lrs(bad)


def test_plan_sizes_and_stages():
    plan = tiny_plan(seeds=3)
    assert len(plan.search_runs()) == 2 * 3
    assert len(plan.default_runs()) == 2 * 3
    assert {r.stage for r in plan.search_runs()} == {"search"}
    assert [r.lr for r in plan.default_runs()][::3] == [0.01, 0.001]  # sgd's and adam's own
    best = {"sgd": Choice(0.1, 0.5), "adam": Choice(None, math.nan)}
    tuned = plan.tuned_runs(best)
    assert [(r.label, r.lr, r.replicate) for r in tuned] == [("sgd", 0.1, k) for k in range(3)]
    assert not tiny_plan(defaults=False).default_runs()


def test_run_ids_and_seeds_do_not_depend_on_order_or_other_optimizers():
    a = {(r.label, r.lr): (r.run_id, r.seed) for r in tiny_plan(("sgd", "adam")).search_runs()}
    b = {
        (r.label, r.lr): (r.run_id, r.seed)
        for r in tiny_plan(("momentum", "adam", "sgd")).search_runs()
    }
    assert all(b[k] == v for k, v in a.items())
    assert len({rid for rid, _ in a.values()}) == len(a)
    # common random numbers: one seed per position, stage 2 never reuses stage 1's draw
    assert len({seed for _, seed in a.values()}) == 1
    tuned = tiny_plan(seeds=4).default_runs()
    seeds = [r.seed for r in tuned if r.label == "sgd"]
    assert len(set(seeds)) == 4 and next(iter(a.values()))[1] not in seeds
    assert seeds == [run_seed(0, "tuned", k) for k in range(4)]
    assert run_seed(1, "search", 0) != run_seed(0, "search", 0)


def test_run_id_changes_with_configuration_not_with_data_dir():
    r = tiny_plan().search_runs()[0]
    other = tiny_plan(iterations=61).search_runs()[0]
    assert r.run_id != other.run_id
    plan = tiny_plan()
    moved = SweepPlan(
        type(plan.problem)(
            plan.problem.dataset, plan.problem.protocol, 400, 200, "/somewhere/else"
        ),
        plan.optimizers,
        plan.lrs,
        2,
    )
    assert moved.search_runs()[0].run_id == r.run_id
    # "sgd" and "sgd:lr=0.01" at the default rate are the same run
    assert (
        tiny_plan(("SGD",)).default_runs()[0].run_id == tiny_plan(("sgd",)).default_runs()[0].run_id
    )


def test_plan_rejects_lr_in_spec_and_repeated_optimizers():
    with pytest.raises(ValueError, match="must not set lr"):
        tiny_plan(("adam:lr=0.1",))
    with pytest.raises(ValueError, match="given twice"):
        tiny_plan(("adam", "Adam"))


def test_select_best_lowest_loss_ties_to_smaller_lr_never_diverged():
    nan = math.nan
    got = select_best(
        [
            ("a", 0.1, 0.5),
            ("a", 0.01, 0.2),
            ("a", 1.0, nan),
            ("b", 0.1, 0.3),
            ("b", 0.01, 0.3),
            ("b", 1.0, 0.4),
            ("c", 0.1, nan),
            ("c", 1.0, nan),
        ]
    )
    assert got["a"] == Choice(0.01, 0.2, diverged=(1.0,))
    assert got["b"].lr == 0.01 and got["b"].ties == (0.1,)
    assert got["c"].lr is None and got["c"].diverged == (0.1, 1.0)
    assert got["c"].to_dict()["loss"] is None


def test_final_smoothed_and_time_to_target():
    assert math.isnan(final_smoothed(np.array([1.0, np.inf, np.nan])))
    assert final_smoothed(np.full(50, 0.25)) == pytest.approx(0.25)
    it, acc, sec = np.array([10, 20, 30]), np.array([0.5, 0.97, 0.99]), np.array([1.0, 2.0, 3.0])
    assert time_to_target(it, acc, sec, 0.97) == (20, 2.0)
    assert time_to_target(it, acc, sec, 0.995) == (None, None)


def test_t_quantile_table_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 4, 9, 29, 30, 35, 50, 100, 500, 10**6):
        assert t_quantile_975(df) == pytest.approx(stats.t.ppf(0.975, df), rel=2e-4)
