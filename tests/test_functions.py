"""The 2-D test functions: analytic gradients, minima, registry."""

import numpy as np
import pytest

from optimlab.functions import FUNCTIONS, get_function, names

ALL = list(FUNCTIONS.values())


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.name)
def test_gradient_matches_central_differences(fn):
    rng = np.random.default_rng(0)
    xs = rng.uniform(*fn.xlim, size=20)
    ys = rng.uniform(*fn.ylim, size=20)
    h = 1e-6
    gx, gy = fn.grad(xs, ys)
    nx = (fn.f(xs + h, ys) - fn.f(xs - h, ys)) / (2 * h)
    ny = (fn.f(xs, ys + h) - fn.f(xs, ys - h)) / (2 * h)
    scale = 1.0 + np.abs(fn.f(xs, ys))
    np.testing.assert_allclose(gx / scale, nx / scale, atol=1e-5)
    np.testing.assert_allclose(gy / scale, ny / scale, atol=1e-5)


@pytest.mark.parametrize("fn", [f for f in ALL if f.minima], ids=lambda f: f.name)
def test_minima_are_stationary_and_lowest(fn):
    X, Y = np.meshgrid(np.linspace(*fn.xlim, 201), np.linspace(*fn.ylim, 201))
    low = fn.f(X, Y).min()
    for mx, my in fn.minima:
        gx, gy = fn.grad(mx, my)
        assert abs(gx) < 1e-4 and abs(gy) < 1e-4
        assert fn.f(mx, my) <= low + 1e-6


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.name)
def test_drawing_data_is_consistent(fn):
    assert fn.xlim[0] < fn.start[0] < fn.xlim[1]
    assert fn.ylim[0] < fn.start[1] < fn.ylim[1]
    assert np.all(np.diff(fn.levels) > 0)
    if fn.log_scale:
        assert fn.levels[0] > 0
    assert len(fn.optimizers) == 4 and fn.steps >= 1


def test_hessian_is_that_of_the_quadratic():
    for name in ("bowl", "saddle"):
        fn = get_function(name)
        a, b = fn.hessian
        x, y = 1.3, -0.7
        assert fn.f(x, y) == pytest.approx((a * x * x + b * y * y) / 2)
    assert get_function("bowl").hessian == (0.1, 2.0)


def test_seed_bowl_is_the_book_function():
    fn = get_function("bowl")
    assert fn.f(-7.0, 2.0) == (-7.0) ** 2 / 20.0 + 2.0**2
    assert fn.grad(-7.0, 2.0) == (-0.7, 4.0)
    assert fn.start == (-7.0, 2.0) and fn.steps == 30
    assert fn.optimizers == ("sgd:lr=0.95", "momentum:lr=0.1", "adagrad:lr=1.5", "adam:lr=0.3")


def test_registry():
    assert names()[0] == "bowl"
    assert set(names()) == {"bowl", "rosenbrock", "beale", "himmelblau", "rastrigin", "saddle"}
    assert get_function(" Rosenbrock ").name == "rosenbrock"
    with pytest.raises(ValueError, match="unknown function 'nope'; valid: bowl"):
        get_function("nope")
