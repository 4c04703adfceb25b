"""curves: the t-quantile table entry by entry against SciPy, its interpolation, and the
confidence half-width."""

import math

import numpy as np
import pytest
from scipy import stats  # in the test extra: this check must run, not skip

from optimlab import curves
from optimlab.curves import mean_ci, t_quantile_975


def _decimals(v: float) -> int:
    return len(repr(v).split(".")[1])


@pytest.mark.parametrize("df", sorted(curves._T975))
def test_every_table_entry_is_scipys_quantile_rounded(df):
    # each entry is t.ppf(0.975, df) rounded to the decimals it is written with: a typo in
    # any digit fails
    value = curves._T975[df]
    assert t_quantile_975(df) == value
    assert round(float(stats.t.ppf(0.975, df)), _decimals(value)) == value


def test_the_normal_quantile_is_scipys_rounded():
    assert round(float(stats.norm.ppf(0.975)), 6) == curves._Z975


def test_interpolated_quantiles_are_within_the_stated_digits():
    # between table entries (df > 30) and beyond 120, interpolated in 1/df: 4-5 significant
    # digits, as the docstring says (measured worst: 2.7e-5 at df = 48)
    for df in [*range(31, 130), 150, 200, 500, 1000, 10**4, 10**6]:
        exact = float(stats.t.ppf(0.975, df))
        assert abs(t_quantile_975(df) - exact) <= 2e-4 * exact, df


def test_no_degrees_of_freedom_is_an_error():
    with pytest.raises(ValueError, match="degrees of freedom must be >= 1, got 0"):
        t_quantile_975(0)


def test_mean_ci_is_the_t_interval():
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(5, 3))
    mean, half = mean_ci(samples)
    np.testing.assert_allclose(mean, samples.mean(axis=0), rtol=0, atol=0)
    lo, hi = stats.t.interval(0.95, 4, loc=samples.mean(axis=0), scale=stats.sem(samples, axis=0))
    # the table's t(0.975, 4) has 6 significant digits: half-widths agree to 1e-5
    np.testing.assert_allclose(half, (hi - lo) / 2, rtol=1e-5)
    one_mean, one_half = mean_ci(samples[:1])
    assert np.all(one_half == 0) and np.array_equal(one_mean, samples[0])
    assert math.isfinite(float(half.sum()))
