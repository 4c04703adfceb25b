"""What a sweep says up front and as it goes, the "did not learn" status, and a report
whose statistics respect each quantity's range (issue 17)."""

from __future__ import annotations

import csv
import math
import re
import sqlite3

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.collections import PolyCollection

from optimlab.sweep import Store, run_sweep, select_best
from optimlab.sweep.cli import sweep
from optimlab.sweep.grid import chance_accuracy, did_not_learn, prior_loss
from optimlab.sweep.report import (
    MIN_SEEDS_FOR_BAND,
    _curves_figure,
    accuracy_band,
    loss_band,
    render_report,
    summarize,
)
from sweep_helpers import CLI_ARGS, tiny_plan

ARGS = [*CLI_ARGS, "--workers", "1"]


# -- the plan, the progress and the counts ------------------------------------------------------


def test_the_plan_comes_first_then_every_line_counts_against_one_known_total(tmp_path):
    store = tmp_path / "s.sqlite"
    res = CliRunner().invoke(sweep, [*ARGS, "--store", str(store)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    first_run = next(i for i, ln in enumerate(lines) if ln.startswith("["))
    plan = "\n".join(lines[:first_run])
    assert plan.startswith("plan: 2 optimizer(s) (sgd, adam)")
    assert re.search(r"stage 1: +6 runs \(2 optimizers x 3 learning rates", plan)
    assert re.search(r"defaults: +4 runs", plan) and re.search(r"stage 2: +4 runs", plan)
    assert re.search(r"14 runs at most, 0 already stored; in this process; about \d+", plan)
    assert f"results: {store}" in plan and "rerun the same command to resume" in plan
    runs = [ln for ln in lines if ln.startswith("[")]
    assert len(runs) == 14 and all(re.match(r"\[ ?\d+/14\]", ln) for ln in runs)
    assert [int(ln[1:3]) for ln in runs] == list(range(1, 15))  # no jump, no restart
    assert all("· ETA" in ln for ln in runs[:-1]) and "ETA" not in runs[-1]
    assert "14 runs: 14 new, 0 already stored" in res.output
    again = CliRunner().invoke(sweep, [*ARGS, "--store", str(store)])
    assert "14 runs at most, 10 already stored" in again.output  # stage 1 and defaults
    assert "14 runs: 0 new, 14 already stored" in again.output


def test_a_fresh_store_does_not_count_its_own_shared_runs_as_already_stored(tmp_path):
    # sgd's only rate is its default 0.01, so stage 2 is the default runs
    s = run_sweep(tiny_plan(("sgd",), lrs=(0.01,), seeds=2), tmp_path / "s.sqlite", workers=1)
    assert (s.planned, s.total, s.computed, s.skipped, s.shared) == (5, 3, 3, 0, 2)
    assert s.position == s.planned


def test_help_states_the_default_size():
    res = CliRunner().invoke(sweep, ["--help"])
    assert "Default size: 4 optimizers x 13 learning rates" in " ".join(res.output.split())
    assert "92 runs at most" in res.output


# -- did not learn -------------------------------------------------------------------------------


def test_did_not_learn_flat_loss_or_chance_accuracy():
    rng = np.random.default_rng(0)
    flat = {"losses": 2.3 + 0.01 * rng.standard_normal(200)}
    falling = {"losses": np.linspace(2.3, 0.3, 200), "chance_accuracy": np.array([0.1135])}
    assert did_not_learn(flat, 0.5)  # loss no better than at the start
    assert did_not_learn(falling, 0.1135)  # the majority class's rate
    assert not did_not_learn(falling, 0.90)
    assert not did_not_learn(falling, math.nan)  # no accuracy: the loss decides
    assert not did_not_learn({"losses": np.r_[falling["losses"], np.inf]}, 0.1)  # diverged
    # a first step that blows the loss up to 8 and a slow return to the prior loss (ln 10)
    blown = {"losses": np.r_[np.full(10, 8.0), np.linspace(8.0, 2.31, 190)]}
    assert did_not_learn(blown, 0.2) and not did_not_learn({**blown, "prior_loss": [3.0]}, 0.2)
    labels = np.array([1, 1, 2, 3])
    assert chance_accuracy(labels) == 0.5
    assert prior_loss(labels) == pytest.approx(-(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25)))


def test_a_run_that_did_not_learn_is_never_chosen_even_with_the_lowest_loss():
    best = select_best([("a", 0.1, 0.01, False), ("a", 0.01, 0.5, True), ("b", 1.0, 0.2, False)])
    assert best["a"].lr == 0.01 and best["a"].not_learned == (0.1,)
    assert best["b"].lr is None and best["b"].to_dict()["did_not_learn"] == [1.0]


def test_did_not_learn_shows_in_the_summary_the_report_and_runs_csv(tmp_path):
    store = tmp_path / "s.sqlite"
    s = run_sweep(tiny_plan(("sgd",), lrs=(1e-7, 0.1), seeds=2), store, workers=1)
    assert s.best["sgd"].lr == 0.1 and s.best["sgd"].not_learned == (1e-7,)
    assert s.not_learned == 1
    rep = summarize(store)
    (flat,) = [r for r in rep.rows if r["outcome"] == "did not learn"]
    assert flat["lr"] == 1e-7 and flat["status"] == "done"
    files = render_report(rep)
    rows = list(csv.DictReader(files["runs.csv"].decode().splitlines()))
    assert [r["lr"] for r in rows if r["outcome"] == "did not learn"] == ["1e-07"]
    assert "1 did not learn" in files["report.html"].decode()


# -- bands within range --------------------------------------------------------------------------


def test_bands_stay_within_the_range_of_the_quantity():
    rng = np.random.default_rng(1)
    losses = np.exp(rng.normal(-3, 3, size=(5, 400)))  # spread over orders of magnitude
    m, lo, hi = loss_band(losses)
    assert np.all(lo > 0) and np.all(lo <= m) and np.all(m <= hi)
    acc = np.clip(rng.normal(0.97, 0.05, size=(5, 40)), 0, 1)
    acc[:, 0] = [0.0, 1.0, 1.0, 0.1, 0.9]
    m, lo, hi = accuracy_band(acc)
    assert np.all((lo >= 0) & (hi <= 1)) and np.all((lo <= m) & (m <= hi))


@pytest.fixture(scope="module")
def five_seeds(tmp_path_factory):
    store = tmp_path_factory.mktemp("five") / "s.sqlite"
    plan = tiny_plan(("sgd", "adam"), lrs=(0.01, 0.1), seeds=MIN_SEEDS_FOR_BAND)
    run_sweep(plan, store, workers=1)
    return store


def _bands(fig) -> list[np.ndarray]:
    ax = fig.axes[0]
    return [
        p.vertices[:, 1]
        for c in ax.collections
        if isinstance(c, PolyCollection)
        for p in c.get_paths()
    ]


def test_five_seeds_draw_bands_inside_the_range_and_fewer_draw_each_seed(tmp_path, five_seeds):
    rep = summarize(five_seeds)
    loss, acc = _curves_figure(rep, "loss"), _curves_figure(rep, "accuracy")
    assert len(_bands(loss)) == 2 and len(_bands(acc)) == 2  # one band per optimizer
    assert all(np.all(y > 0) for y in _bands(loss))
    assert all(np.all((y >= 0) & (y <= 1)) for y in _bands(acc))
    few = tmp_path / "few.sqlite"
    run_sweep(tiny_plan(("sgd", "adam"), lrs=(0.01, 0.1), seeds=2), few, workers=1)
    fig = _curves_figure(summarize(few), "loss")
    assert _bands(fig) == [] and len(fig.axes[0].lines) == 2 * 2  # each seed of each


# -- the HTML page -------------------------------------------------------------------------------


def test_the_page_has_a_header_a_conclusion_and_plain_cells(five_seeds):
    files = render_report(summarize(five_seeds, target=0.999))  # a target no run reaches
    page = files["report.html"].decode()
    for item in ("dataset", "iterations a run", "train / test samples", "seeds (stage 2)"):
        assert f"<b>{item}</b>" in page
    assert "total compute" in page and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page)
    assert re.search(r"Best tuned optimizer: \w+ \(lr [\d.]+\), mean final loss", page)
    assert "95 % CI" in page and "paired over 5 seeds" in page
    assert "not reached [not reached" not in page and "<td>—</td>" in page
    assert '<a href="runs.csv">runs.csv</a>' in page
    assert '<td class="t">sgd</td>' in page and "<th>rank</th>" in page


def test_a_partial_store_has_no_ranks_and_no_conclusion(tmp_path, five_seeds):
    store = tmp_path / "s.sqlite"
    store.write_bytes(five_seeds.read_bytes())
    db = sqlite3.connect(store)
    with db:
        db.execute(
            "UPDATE runs SET status = 'queued' WHERE id = "
            "(SELECT run_id FROM sweep_runs WHERE stage = 'tuned' LIMIT 1)"
        )
    db.close()
    page = render_report(summarize(store))["report.html"].decode()
    assert "<th>rank</th>" not in page and "Incomplete" in page
    assert "Best tuned optimizer" not in page


def test_figures_without_data_say_so(tmp_path):
    plan = tiny_plan()
    with Store(tmp_path / "s.sqlite") as st:
        st.record_sweep(plan.sweep_id, plan.identity(), 0.5)
        st.enqueue(plan.sweep_id, plan.search_runs())
    rep = summarize(tmp_path / "s.sqlite")
    for key in ("loss", "accuracy"):
        assert [t.get_text() for t in _curves_figure(rep, key).axes[0].texts] == ["no data yet"]
    assert render_report(rep)["report.html"].startswith(b"<!DOCTYPE html>")
