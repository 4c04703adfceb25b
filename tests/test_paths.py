"""Paths on 2-D functions: the seed's trajectories, closed forms, divergence."""

import numpy as np
import pytest

from optimlab.experiments.paths import (
    gd_iterates,
    heavy_ball_iterates,
    optimizer_labels,
    points_to_draw,
    run_paths,
    theory_path,
)
from optimlab.functions import get_function
from optimlab.optim import Momentum, Nesterov

BOWL = get_function("bowl")


def test_seed_sgd_path_is_the_hand_computed_one():
    path = run_paths(["sgd:lr=0.95"], BOWL).paths[0]
    x, y = -7.0, 2.0
    expected = [(x, y)]
    for _ in range(30):
        x, y = x * (1 - 0.95 / 10), y * (1 - 2 * 0.95)
        expected.append((x, y))
    np.testing.assert_allclose(path.xy, expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(path.f, BOWL.f(path.xy[:, 0], path.xy[:, 1]), rtol=1e-15)
    assert path.diverged_at is None and path.drawn == 31


def test_paths_follow_the_book_loop():
    """Same as the book's optimizer_compare_naive.py: update with df at each step."""
    for spec, opt in (("momentum:lr=0.1", Momentum(lr=0.1)), ("nesterov:lr=0.01", Nesterov())):
        params = {"x": -7.0, "y": 2.0}
        hist = []
        for _ in range(30):
            hist.append((params["x"], params["y"]))
            gx, gy = params["x"] / 10.0, 2.0 * params["y"]
            opt.update(params, {"x": gx, "y": gy})
        hist.append((params["x"], params["y"]))
        np.testing.assert_array_equal(run_paths([spec], BOWL).paths[0].xy, hist)


def test_closed_forms_equal_the_rules():
    result = run_paths(
        ["sgd:lr=0.95", "momentum:lr=0.1", "momentum:lr=0.3,momentum=0.5", "adam:lr=0.3"],
        BOWL,
        steps=40,
    )
    for p in result.paths[:3]:
        np.testing.assert_allclose(p.theory, p.xy, rtol=1e-9, atol=1e-12)
    assert result.paths[3].theory is None
    assert theory_path("sgd", get_function("rosenbrock"), (0.0, 0.0), 5) is None


def test_heavy_ball_closed_form_cases():
    for h, eta, mu in (
        (2.0, 0.1, 0.9),
        (0.1, 0.1, 0.9),
        (1.0, 0.5, 0.0),
        (1.0, 1.0, 0.0),
        (1.0, (1 - np.sqrt(0.25)) ** 2, 0.25),
    ):  # last: a double root
        u, v, hist = 1.5, 0.0, [1.5]
        for _ in range(25):
            v = mu * v - eta * h * u
            u = u + v
            hist.append(u)
        np.testing.assert_allclose(
            heavy_ball_iterates(h, eta, mu, 1.5, 25), hist, rtol=1e-9, atol=1e-12
        )
    np.testing.assert_allclose(gd_iterates(2.0, 0.95, 2.0, 3), [2.0, -1.8, 1.62, -1.458])


def test_divergence_is_detected_and_others_unaffected():
    alone = run_paths(["adam:lr=0.3"], BOWL).paths[0]
    result = run_paths(["sgd:lr=10", "adam:lr=0.3"], BOWL)
    bad, good = result.paths
    # y_k = 2 (1 - 20)^k: 2, -38, 722, -13718 is the first beyond 1000 half-widths (5000)
    assert bad.diverged_at == 3
    assert len(bad.xy) == 4 and bad.drawn == 2  # the start and the first point outside
    np.testing.assert_array_equal(good.xy, alone.xy)
    assert good.diverged_at is None


def test_nan_divergence():
    result = run_paths(["sgd:lr=1e200"], get_function("rosenbrock"), steps=5)
    p = result.paths[0]
    assert p.diverged_at is not None
    assert p.drawn <= len(p.xy)


def test_points_to_draw():
    window = ((-1.0, 1.0), (-1.0, 1.0))
    xy = np.array([[0.0, 0.0], [0.5, 0.5], [2.0, 0.0], [0.0, 0.0]])
    assert points_to_draw(window, xy) == 3
    assert points_to_draw(window, xy[:2]) == 2
    assert points_to_draw(window, np.array([[0.0, 0.0], [np.nan, 0.0]])) == 1


def test_start_outside_window_widens_it():
    result = run_paths(["sgd:lr=0.1"], BOWL, start=(30.0, 1.0), steps=3)
    assert result.xlim[1] > 30.0 and result.paths[0].diverged_at is None


def test_labels():
    assert optimizer_labels(["sgd", "momentum", "adagrad", "adam"]) == [
        "SGD",
        "Momentum",
        "AdaGrad",
        "Adam",
    ]
    assert optimizer_labels(["sgd:lr=0.1", "sgd:lr=0.5", "adam"]) == [
        "SGD (lr=0.1)",
        "SGD (lr=0.5)",
        "Adam",
    ]
    assert optimizer_labels(["sgd", "sgd"]) == ["SGD #1", "SGD #2"]


def test_bad_input():
    with pytest.raises(ValueError, match=r"steps must be an integer in 1\.\.100000"):
        run_paths(["sgd"], BOWL, steps=0)
    with pytest.raises(ValueError, match="unknown optimizer"):
        run_paths(["nope"], BOWL)


def test_a_start_outside_the_window_widens_it_about_the_centre():
    from optimlab.experiments.paths import view_window

    fn = get_function("bowl")  # window [-10, 10] x [-5, 5]
    xlim, ylim = view_window(fn, (-15.0, 3.0))
    assert xlim == pytest.approx((-16.5, 16.5)) and ylim == (-5.0, 5.0)
    assert view_window(fn, (1.0, 1.0)) == (fn.xlim, fn.ylim)


def test_a_far_start_draws_without_warnings(tmp_path):
    """Overflow in the landscape of a huge window is expected, not warned about."""
    from optimlab.plots import paths_figure

    fn = get_function("beale")
    result = run_paths(["sgd:lr=0.01", "adam:lr=0.1"], fn, start=(1e200, 1e200))
    assert all(p.diverged_at == 1 for p in result.paths)
    paths_figure(result).savefig(tmp_path / "p.png")  # filterwarnings=error would raise


@pytest.mark.parametrize(
    ("given", "used", "defaulted"),
    [
        ("adam", "adam:lr=0.3", True),  # the bowl's Adam rate, not Adam's 0.001
        ("adam:beta1=0.8", "adam:lr=0.3,beta1=0.8", True),
        ("nadam", "nadam:lr=0.3", True),  # a relative's rate
        ("nesterov", "nesterov:lr=0.1", True),
        ("sgd:lr=0.5", "sgd:lr=0.5", False),  # a rate given is kept
        ("adadelta", "adadelta", False),  # no rate on the bowl for it: its own default
    ],
)
def test_rule_without_lr_takes_the_functions_rate(given, used, defaulted):
    from optimlab.experiments.paths import with_default_rate

    assert with_default_rate(given, BOWL) == (used, defaulted)
    path = run_paths([given], BOWL, steps=3).paths[0]
    assert path.spec == used and path.default_rate is defaulted


def test_steps_have_a_stated_upper_bound():
    from optimlab.experiments.paths import MAX_STEPS

    with pytest.raises(ValueError, match=f"steps must be an integer in 1..{MAX_STEPS}"):
        run_paths(["sgd"], BOWL, steps=MAX_STEPS + 1)


def test_exit_point_is_on_the_edge_between_the_last_inside_and_first_outside():
    from optimlab.experiments.paths import exit_point

    window = ((-1.0, 1.0), (-1.0, 1.0))
    xy = np.array([[0.0, 0.0], [0.5, 0.5], [2.0, 0.8], [0.0, 0.0]])
    k, x, y = exit_point(window, xy)
    # segment (0.5, 0.5) -> (2, 0.8) meets x = 1 a third of the way: y = 0.5 + 0.3 / 3
    assert (k, x, y) == pytest.approx((2, 1.0, 0.6))
    assert exit_point(window, xy[:2]) is None
