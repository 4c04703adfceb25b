"""smooth_curve against the book's formula and a direct sum; figures build without warnings."""

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from optimlab import plots
from optimlab.experiments.paths import run_paths
from optimlab.functions import get_function
from optimlab.plots import smooth_curve
from optimlab.style import DIVERGED, STYLES, rule_key, style_of, styles_for


def book_smooth_curve(x):
    """The book's common/util.py, verbatim apart from names."""
    window_len = 11
    s = np.r_[x[window_len - 1 : 0 : -1], x, x[-1:-window_len:-1]]
    w = np.kaiser(window_len, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5 : len(y) - 5]


def direct_smooth(x):
    """Each output a Kaiser-weighted average of the 11 samples centred on it, mirrored ends."""
    n = len(x)
    w = np.kaiser(11, 2.0)
    w = w / w.sum()

    def at(j):  # the book's padding: reflect on the left, symmetric on the right
        if j < 0:
            return x[-j]
        if j >= n:
            return x[2 * n - 1 - j]
        return x[j]

    return np.array([sum(w[k] * at(i + k - 5) for k in range(11)) for i in range(n)])


@pytest.mark.parametrize("n", [11, 12, 50, 2000])
def test_smooth_curve_equals_book_and_direct_sum(n):
    x = np.random.default_rng(n).random(n)
    out = smooth_curve(x)
    assert out.shape == (n,)
    np.testing.assert_allclose(out, book_smooth_curve(x), rtol=1e-14, atol=0)
    np.testing.assert_allclose(out, direct_smooth(x), rtol=1e-12, atol=0)


def test_smooth_curve_short_and_constant():
    assert smooth_curve([]).shape == (0,)
    np.testing.assert_allclose(smooth_curve([3.0]), [3.0])
    np.testing.assert_allclose(smooth_curve(np.full(5, 2.5)), np.full(5, 2.5))
    assert smooth_curve([1.0, 2.0, 3.0]).shape == (3,)
    assert smooth_curve([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).dtype == np.float64


def test_paths_figure_panels_and_titles():
    result = run_paths(["sgd:lr=10", "momentum:lr=0.1", "adam"], get_function("bowl"), steps=5)
    fig = plots.paths_figure(result)
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 3
    assert "diverged at step 3" in axes[0].get_title()
    assert axes[1].get_title() == "Momentum, lr 0.1"
    assert axes[2].get_title() == "Adam, lr 0.3 (bowl's default)"  # no lr: the bowl's rate
    assert axes[2].get_xlabel() == "x" and axes[2].get_ylabel() == "y"
    fig.draw_without_rendering()


def _line_styles(ax):
    """(colour, marker) of every line of ``ax`` that has data and a marker."""
    from matplotlib.colors import to_hex

    return {
        (to_hex(line.get_color()), line.get_marker())
        for line in ax.get_lines()
        if len(line.get_xdata()) > 1 and line.get_marker() not in ("None", "", None)
    }


def test_each_rule_has_its_style_in_paths_and_loss_figures(tmp_path):
    """One colour and marker per rule, the same in paths.png and loss.png."""
    from matplotlib.colors import to_hex

    specs = ["sgd:lr=0.95", "adam:lr=0.3"]
    paths = plots.paths_figure(run_paths(specs, get_function("bowl"), steps=5))
    compare = _tiny_compare(specs)
    loss_ax = plots.loss_figure(compare).axes[0]
    for k, spec in enumerate(specs):
        want = (to_hex(style_of(spec)["color"]), style_of(spec)["marker"])
        assert want in _line_styles(paths.axes[k])
        assert want in _line_styles(loss_ax)
    labels = [t.get_text() for t in plots.loss_figure(compare).legends[0].get_texts()]
    assert labels == ["SGD (lr 0.95)", "Adam (lr 0.3)"]


def _tiny_compare(specs, iterations=30):
    from optimlab.experiments import Dataset, Protocol
    from optimlab.experiments.compare import run_compare

    rng = np.random.default_rng(0)
    x = rng.random((40, 6)).astype(np.float32)
    t = rng.integers(0, 3, 40)
    data = Dataset(x[:30], t[:30], x[30:], t[30:], name="toy")
    proto = Protocol(hidden=(5,), batch_size=8, iterations=iterations, eval_every=5)
    return run_compare(specs, data, proto, engine="reference")


def test_accuracy_zoom_excludes_an_early_poor_point():
    compare = _tiny_compare(["sgd:lr=0.01", "adam"], iterations=40)
    run = compare.runs[0]
    run.test_accuracy = np.array([0.10, 0.90, 0.92, 0.93, 0.94, 0.95, 0.95, 0.96])
    compare.runs[1].test_accuracy = np.array([0.5, 0.91, 0.93, 0.94, 0.95, 0.96, 0.96, 0.97])
    lo, hi = plots.accuracy_range(compare)
    # evaluations at 5, 10, ..., 40; from 10 (a quarter of 40) on, values span 90..97%,
    # margin max(10% of the span, 0.5) = 0.7; the 10% and 50% first points are left out
    assert (lo, hi) == pytest.approx((89.3, 97.7))
    fig = plots.accuracy_figure(compare)
    full, zoom = fig.axes[:2]
    assert full.get_ylim() == (0, 100) and zoom.get_ylim() == pytest.approx((lo, hi))


def test_paths_that_leave_the_view_are_marked():
    result = run_paths(get_function("saddle").optimizers, get_function("saddle"))
    exits = {p.label: p.exit for p in result.paths}
    assert exits["SGD"] is None and exits["Momentum"] is not None
    k, x, y = exits["Momentum"]
    assert y == pytest.approx(3.0) and -3 <= x <= 3  # on the window's top edge
    fig = plots.paths_figure(result)
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert f"leaves the view at step {k}" in texts


def test_gif_has_frames(tmp_path):
    from PIL import Image

    result = run_paths(["sgd:lr=0.95", "adam:lr=0.3"], get_function("saddle"), steps=4)
    data = plots.paths_gif(result)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "GIF" and im.n_frames >= 5


def test_style_one_colour_and_marker_per_registered_rule():
    from optimlab.optim import names

    assert set(STYLES) == set(names())
    colours = [style_of(n)["color"] for n in names()]
    markers = [style_of(n)["marker"] for n in names()]
    assert len(set(colours)) == len(colours) and len(set(markers)) == len(markers)
    assert DIVERGED["marker"] not in markers  # x means "diverged" in every figure


@pytest.mark.parametrize("name", ["adam", "Adam", "adam:lr=0.1", "Adam (lr 0.1)", "Adam #2"])
def test_style_any_spelling_of_a_rule(name):
    assert rule_key(name) == "adam"
    assert style_of(name) == style_of("adam")


def test_style_fallback_is_stable_and_never_x():
    a, b = style_of("myrule"), style_of("MyRule:lr=1")
    assert a == b and a["marker"] != DIVERGED["marker"]
    assert a["color"] not in {c for c, _ in STYLES.values()}


def test_styles_for_repeats_keep_colour_and_change_line():
    s = styles_for(["sgd:lr=0.1", "adam", "sgd:lr=0.01"])
    assert s[0]["color"] == s[2]["color"] and s[0]["marker"] == s[2]["marker"]
    assert s[0]["linestyle"] != s[2]["linestyle"]
    assert s[1]["linestyle"] == s[0]["linestyle"]
