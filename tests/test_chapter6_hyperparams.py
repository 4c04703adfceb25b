"""The random hyperparameter search: its draws, its split, its store, and resuming it."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab.experiments.hyperparams import HyperparamSearch
from optimlab.plots_chapter6 import figures
from optimlab.sweep.report import write_report
from optimlab.sweep.store import Store
from optimlab.sweep.trials import read_search, run_search

#: four quick trials on the first 60 MNIST images
TINY = dict(trials=4, epochs=3, train_size=60, hidden=(8,), batch_size=10)


class Interrupt(Exception):
    """Stands for Ctrl-C (KeyboardInterrupt) in the middle of a search."""


def test_trials_draw_in_the_ranges_and_extend_a_shorter_search():
    s = HyperparamSearch(trials=50, seed=3)
    trials = s.make_trials()
    lrs = np.log10([t.lr for t in trials])
    wds = np.log10([t.weight_decay for t in trials])
    assert lrs.min() >= -6 and lrs.max() <= -2 and wds.min() >= -8 and wds.max() <= -4
    assert len({t.run_id for t in trials}) == 50
    # the first 10 trials of a 50-trial search are the 10-trial search (same runs in a store)
    assert [t.run_id for t in HyperparamSearch(trials=10, seed=3).make_trials()] == [
        t.run_id for t in trials[:10]
    ]
    assert trials[0].run_id != HyperparamSearch(trials=1, seed=4).make_trials()[0].run_id


def test_split_holds_out_a_shuffled_fifth():
    from optimlab.sweep import synthetic_dataset

    data = synthetic_dataset(n_train=100, n_test=10, dim=5)
    (x_tr, t_tr), (x_val, t_val) = HyperparamSearch(train_size=50).split(data)
    assert len(t_val) == 10 and len(t_tr) == 40
    rows = {tuple(r) for r in np.concatenate([x_tr, x_val])}
    assert rows == {tuple(r) for r in data.x_train[:50]}  # the first 50 images, each once
    assert not np.array_equal(x_val, data.x_train[:10])  # shuffled first


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"lr_range": (-2, -6)}, "lr_range"),
        ({"val_fraction": 0.001}, "validation"),
        ({"trials": 0}, "trials"),
        ({"dtype": "float16"}, "dtype"),
    ],
)
def test_bad_search_settings_are_named(kw, match):
    with pytest.raises(ValueError, match=match):
        HyperparamSearch(**kw)


def _curves(result):
    return {
        r.index: (r.lr, r.weight_decay, r.val_accuracy.tobytes(), r.train_accuracy.tobytes())
        for r in result.trials
    }


def test_an_interrupted_search_resumes_to_the_same_results(tmp_path):
    search = HyperparamSearch(**TINY)
    whole = run_search(search, tmp_path / "whole.sqlite", workers=1)
    assert len(whole.trials) == 4

    store = tmp_path / "resumed.sqlite"
    seen = []

    def stop_after_two(trial, record, done, total):
        seen.append(trial.index)
        if done == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_search(search, store, workers=1, progress=stop_after_two)
    assert len(read_search(search, store).trials) == 2  # two stored, two to go

    again = []
    resumed = run_search(
        search, store, workers=1, progress=lambda t, r, d, n: again.append(t.index)
    )
    assert sorted(again) == sorted(set(range(4)) - set(seen))  # only the missing ones ran
    assert _curves(resumed) == _curves(whole)  # bit for bit
    with Store(store, readonly=True) as st:
        assert {r["status"] for r in st.runs()} == {"done"}


def test_the_report_reads_a_search_store(tmp_path):
    search = HyperparamSearch(**{**TINY, "trials": 2})
    result = run_search(search, tmp_path / "s.sqlite", workers=1)
    files = write_report(tmp_path / "s.sqlite", tmp_path / "report")
    runs_csv = next(f for f in files if f.name == "runs.csv").read_text()
    assert runs_csv.count("hyperparams") == 2  # both trials listed
    assert result.ranked()[0].final_val >= result.ranked()[-1].final_val
    assert "rank" in repr(result)
    figs = figures(result, "h", top=2)
    assert len(figs["h"].axes) >= 2 and set(figs) == {"h", "h_scatter"}
