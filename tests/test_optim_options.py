"""The library-form options (issue 14), each against its closed form written out here.

Each reference below is a plain NumPy loop of the documented formula, written
independently of optimlab's in-place code (different order of operations).
The live comparisons with PyTorch, Optax and Keras are in the oracle tests.

Tolerance: rtol 1e-13 in float64. Both sides do the same handful of float64
operations per step, in a different order, so each step differs by a few ulp
(~1e-16 relative); over the 12 steps here that stays below ~1e-14. A wrong
constant, a missing bias correction or epsilon in the wrong place moves the
result by far more than 1e-6 with the epsilons and gradients used.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from optimlab import optim

RTOL = 1e-13
STEPS = 12


def _grads(seed=0, n=6):
    """Gradients from 1e-5 (below sqrt(eps) for eps=1e-3) to 1, some exact zeros."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((STEPS, n)) * 10.0 ** rng.uniform(-5, 0, (STEPS, n))
    g[rng.random((STEPS, n)) < 0.15] = 0.0
    return g


def _run(opt, grads, w0=None):
    p = {"w": np.zeros(grads.shape[1]) if w0 is None else w0.copy()}
    out = []
    for g in grads:
        opt.update(p, {"w": g})
        out.append(p["w"].copy())
    return np.array(out)


# -- RMSprop(eps_inside_sqrt=True): Keras RMSprop, Optax rmsprop ---------------


@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_eps_inside_sqrt_is_g_over_sqrt_h_plus_eps(centered):
    lr, rho, eps = 0.01, 0.9, 1e-3
    grads = _grads(1)
    got = _run(
        optim.RMSprop(lr=lr, decay_rate=rho, eps=eps, centered=centered, eps_inside_sqrt=True),
        grads,
    )
    w, h, gbar = np.zeros(grads.shape[1]), 0.0, 0.0
    for t, g in enumerate(grads):
        h = rho * h + (1 - rho) * g**2
        gbar = rho * gbar + (1 - rho) * g
        denom = h - gbar**2 if centered else h
        w = w - lr * g / np.sqrt(denom + eps)
        np.testing.assert_allclose(got[t], w, rtol=RTOL, atol=0)


def test_rmsprop_eps_forms_differ_most_below_sqrt_eps():
    """g = 1e-4 < sqrt(eps) = 1e-2 with eps = 1e-4; first step, rho = 0.5:
    outside: g / (sqrt(0.5) g + eps) ~ 1e-4 / 1.7e-4; inside: g / sqrt(0.5 g^2 + eps) ~ 1e-2."""
    g = np.array([1e-4])
    steps = {}
    for inside in (False, True):
        p = {"w": np.zeros(1)}
        optim.RMSprop(lr=1.0, decay_rate=0.5, eps=1e-4, eps_inside_sqrt=inside).update(p, {"w": g})
        steps[inside] = -p["w"][0]
    np.testing.assert_allclose(steps[False], 1e-4 / (math.sqrt(0.5) * 1e-4 + 1e-4), rtol=RTOL)
    np.testing.assert_allclose(steps[True], 1e-4 / math.sqrt(0.5e-8 + 1e-4), rtol=RTOL)
    assert steps[False] / steps[True] > 50


# -- Adamax(eps_inside_max=False): Keras Adamax -------------------------------


def test_adamax_eps_outside_the_max_is_keras_form():
    lr, b1, b2, eps = 0.01, 0.8, 0.95, 1e-3
    grads = _grads(2)
    got = _run(optim.Adamax(lr=lr, beta1=b1, beta2=b2, eps=eps, eps_inside_max=False), grads)
    w, m, u = np.zeros(grads.shape[1]), 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g))
        w = w - m / ((1 - b1**t) * (u + eps)) * lr
        np.testing.assert_allclose(got[t - 1], w, rtol=RTOL, atol=0)


def test_adamax_eps_forms_differ_once_u_decays():
    """lr 1, b1 = b2 = 0.5, eps 0.1, g = 1 then 0; worked out on paper:
    step 1 both 2 * 0.5 / 1.1; step 2 inside: u = max(0.55, 0.1), step (4/3) 0.25 / 0.55;
    outside: u = max(0.5, 0), step (4/3) 0.25 / 0.6."""
    grads = np.array([[1.0], [0.0]])
    for inside, u2 in ((True, 0.55), (False, 0.6)):
        got = _run(
            optim.Adamax(lr=1.0, beta1=0.5, beta2=0.5, eps=0.1, eps_inside_max=inside), grads
        )
        want = [-1.0 / 1.1, -1.0 / 1.1 - (4 / 3) * 0.25 / u2]
        np.testing.assert_allclose(got[:, 0], want, rtol=RTOL)


# -- Adam/AMSGrad(amsgrad=True, corrected_max=True): Optax amsgrad -----------


def _optax_amsgrad(grads, lr, b1, b2, eps_of_t):
    w, m, v, vhat_max = np.zeros(grads.shape[1]), 0.0, 0.0, 0.0
    out = []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vhat_max = np.maximum(vhat_max, v / (1 - b2**t))
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(vhat_max) + eps_of_t(t))
        out.append(w)
    return np.array(out)


@pytest.mark.parametrize("cls", [optim.Adam, optim.AMSGrad])
def test_corrected_max_keeps_the_max_of_v_hat_paper_form(cls):
    lr, b1, b2, eps = 0.01, 0.85, 0.995, 1e-8
    grads = _grads(4)[::-1] * np.linspace(2, 0.1, STEPS)[:, None]  # shrinking gradients
    kw = {"amsgrad": True} if cls is optim.Adam else {}
    opt = cls(lr=lr, beta1=b1, beta2=b2, eps=eps, eps_form="paper", corrected_max=True, **kw)
    want = _optax_amsgrad(grads, lr, b1, b2, lambda t: eps)
    np.testing.assert_allclose(_run(opt, grads), want, rtol=RTOL, atol=0)


def test_corrected_max_in_the_book_form_has_the_books_eps():
    """Book form = paper form with eps / sqrt(1 - b2^t) (the same substitution as plain Adam)."""
    lr, b1, b2, eps = 0.01, 0.85, 0.995, 1e-4
    grads = _grads(5)
    opt = optim.AMSGrad(lr=lr, beta1=b1, beta2=b2, eps=eps, corrected_max=True)
    want = _optax_amsgrad(grads, lr, b1, b2, lambda t: eps / math.sqrt(1 - b2**t))
    np.testing.assert_allclose(_run(opt, grads), want, rtol=RTOL, atol=0)


def test_raw_and_corrected_max_differ_after_the_gradient_drops():
    """g = 1 then 0, b2 = 0.9: raw max v = 0.1 (step 1) whose corrected value at
    t = 2 is 0.1 / 0.19; the corrected max keeps v_hat_1 = 0.1 / 0.1 = 1."""
    raw = optim.AMSGrad(beta2=0.9)
    corrected = optim.AMSGrad(beta2=0.9, corrected_max=True)
    for opt in (raw, corrected):
        p = {"w": np.zeros(1)}
        opt.update(p, {"w": np.ones(1)})
        opt.update(p, {"w": np.zeros(1)})
    np.testing.assert_allclose(raw.v_max["w"], [0.1], rtol=RTOL)
    np.testing.assert_allclose(corrected.v_max["w"], [1.0], rtol=RTOL)


def test_corrected_max_needs_amsgrad():
    with pytest.raises(ValueError, match=r"corrected_max.*amsgrad"):
        optim.Adam(corrected_max=True)
    with pytest.raises(ValueError, match=r"corrected_max.*amsgrad"):
        optim.create("adamw:corrected_max=true")


# -- NAdam(momentum_decay=inf): Optax nadam; momentum_decay=1: Keras Nadam ---


def test_nadam_infinite_momentum_decay_is_optax_constant_mu():
    """Optax nadam: m_hat = b1 m / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t)."""
    lr, b1, b2, eps = 0.01, 0.85, 0.995, 1e-8
    grads = _grads(6)
    got = _run(optim.NAdam(lr=lr, beta1=b1, beta2=b2, eps=eps, momentum_decay=math.inf), grads)
    w, m, v = np.zeros(grads.shape[1]), 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)
        w = w - lr * m_hat / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(got[t - 1], w, rtol=RTOL, atol=0)


def test_nadam_momentum_decay_one_is_keras_096_power_t():
    """Keras Nadam: u_t = b1 (1 - 0.5 * 0.96^t), products of u over the steps."""
    lr, b1, b2, eps = 0.01, 0.85, 0.995, 1e-7
    grads = _grads(7)
    got = _run(optim.NAdam(lr=lr, beta1=b1, beta2=b2, eps=eps, momentum_decay=1.0), grads)
    w, m, v, prod = np.zeros(grads.shape[1]), 0.0, 0.0, 1.0
    for t, g in enumerate(grads, start=1):
        u_t, u_next = b1 * (1 - 0.5 * 0.96**t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
        prod *= u_t
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = u_next * m / (1 - prod * u_next) + (1 - u_t) * g / (1 - prod)
        w = w - lr * m_hat / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(got[t - 1], w, rtol=RTOL, atol=0)


@pytest.mark.parametrize("bad", [-math.inf, math.nan, -1.0])
def test_nadam_momentum_decay_still_rejects_nan_and_negative(bad):
    with pytest.raises(ValueError, match="momentum_decay"):
        optim.NAdam(momentum_decay=bad)


# -- spec strings, spec_of and save/load ---------------------------------------


@pytest.mark.parametrize(
    ("spec", "attr", "value"),
    [
        ("rmsprop:eps_inside_sqrt=true", "eps_inside_sqrt", True),
        ("rmsprop:centered=true,eps_inside_sqrt=true", "eps_inside_sqrt", True),
        ("adamax:eps_inside_max=false", "eps_inside_max", False),
        ("adam:amsgrad=true,corrected_max=true", "corrected_max", True),
        ("amsgrad:corrected_max=true", "corrected_max", True),
        ("nadam:momentum_decay=inf", "momentum_decay", math.inf),
        ("nadam:momentum_decay=1", "momentum_decay", 1.0),
    ],
)
def test_specs_parse_the_options_and_round_trip(spec, attr, value):
    opt = optim.create(spec)
    assert getattr(opt, attr) == value
    again = optim.create(optim.spec_of(opt))
    assert again.hyperparameters() == opt.hyperparameters()


def test_defaults_keep_the_previous_behaviour():
    assert optim.RMSprop().eps_inside_sqrt is False
    assert optim.Adamax().eps_inside_max is True
    assert optim.Adam(amsgrad=True).corrected_max is False
    assert optim.AMSGrad().corrected_max is False
    assert optim.NAdam().momentum_decay == 4e-3


def test_infinite_momentum_decay_survives_savez():
    opt = optim.create("nadam:momentum_decay=inf")
    opt.update({"w": np.ones(2)}, {"w": np.ones(2)})
    buf = io.BytesIO()
    np.savez(buf, **optim.state_to_arrays(opt.state_dict()))
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as f:
        sd = optim.state_from_arrays(f)
    assert sd["hyperparameters"]["momentum_decay"] == math.inf
    again = optim.NAdam(momentum_decay=math.inf)
    again.load_state_dict(sd)
    assert again.mu_product == opt.mu_product == 0.9
