"""Learning-rate schedules: their values, validation, and how each rule applies them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimlab import optim


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        # factor at t = 1, 2, 3, 4, 5, 6
        (optim.StepDecay(step_size=2, gamma=0.5), [1, 1, 0.5, 0.5, 0.25, 0.25]),
        (optim.ExponentialDecay(0.9), [1, 0.9, 0.81, 0.729, 0.6561, 0.59049]),
        (optim.InverseTimeDecay(0.5), [1, 1 / 1.5, 1 / 2, 1 / 2.5, 1 / 3, 1 / 3.5]),
        (optim.InverseTimeDecay(1.0, decay_steps=2), [1, 1 / 1.5, 1 / 2, 1 / 2.5, 1 / 3, 1 / 3.5]),
        (
            optim.CosineDecay(4),
            [1, 0.5 + 0.5 * math.cos(math.pi / 4), 0.5, 0.5 - 0.5 * math.cos(math.pi / 4), 0, 0],
        ),
        (
            optim.CosineDecay(4, final_factor=0.2),
            [
                1,
                0.2 + 0.8 * (0.5 + 0.5 * math.cos(math.pi / 4)),
                0.6,
                0.2 + 0.8 * (0.5 - 0.5 * math.cos(math.pi / 4)),
                0.2,
                0.2,
            ],
        ),
        (optim.LinearWarmup(3), [1 / 3, 2 / 3, 1, 1, 1, 1]),
        (optim.LinearWarmup(2, then=optim.ExponentialDecay(0.5)), [0.5, 1, 1, 0.5, 0.25, 0.125]),
    ],
    ids=[
        "step",
        "exponential",
        "inverse-time",
        "inverse-time-k2",
        "cosine",
        "cosine-floor",
        "warmup",
        "warmup-then-exponential",
    ],
)
def test_schedule_values(schedule, expected):
    got = [schedule(t) for t in range(1, 7)]
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: optim.StepDecay(0), "step_size"),
        (lambda: optim.StepDecay(2, gamma=0.0), "gamma"),
        (lambda: optim.StepDecay(2, gamma=1.5), "gamma"),
        (lambda: optim.ExponentialDecay(-0.1), "gamma"),
        (lambda: optim.InverseTimeDecay(-1.0), "decay_rate"),
        (lambda: optim.InverseTimeDecay(1.0, decay_steps=1.5), "decay_steps"),
        (lambda: optim.CosineDecay(0), "total_steps"),
        (lambda: optim.CosineDecay(10, final_factor=2.0), "final_factor"),
        (lambda: optim.LinearWarmup(True), "warmup_steps"),
        (lambda: optim.LinearWarmup(3, then=0.5), "then"),
    ],
)
def test_schedule_validation(make, name):
    with pytest.raises(ValueError, match=name):
        make()


@pytest.mark.parametrize("name", optim.names())
def test_every_rule_scales_lr_by_the_schedule(name):
    """A schedule that is 1 then 0.5 equals a rule built with lr then lr/2, where lr is linear.

    Checked through current_lr for all rules, and on the trajectory for SGD,
    whose step is linear in lr.
    """
    opt = optim.create(name, schedule=optim.StepDecay(1, gamma=0.5))
    assert opt.current_lr() == opt.lr
    opt.update({"w": np.ones(2)}, {"w": np.ones(2)})
    assert opt.current_lr() == opt.lr * 0.5
    assert opt.current_lr(3) == opt.lr * 0.25


def test_sgd_under_a_schedule_takes_the_scheduled_steps():
    opt = optim.SGD(lr=0.1, schedule=optim.StepDecay(1, gamma=0.5))
    p = {"w": np.zeros(1)}
    for _ in range(3):
        opt.update(p, {"w": np.ones(1)})
    np.testing.assert_allclose(p["w"], [-(0.1 + 0.05 + 0.025)], rtol=1e-15)


def test_momentum_under_a_schedule_is_the_book_velocity_form_not_torch_buffer_form():
    """v = mu v - lr_t g (ours, the book's) vs b = mu b + g, W -= lr_t b (PyTorch).

    Equal at constant lr (v = -lr b); under a decaying lr the buffer form
    rescales the whole accumulated momentum by the new lr, the velocity form
    only the new gradient. Both computed here for 20 steps of a quadratic; the
    PyTorch-form reference is a plain loop (the live torch check is in
    test_oracle.py).
    """
    mu, lr, sched = 0.9, 0.1, optim.ExponentialDecay(0.8)
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 1.5, 5)
    w_book = {"w": np.ones(5)}
    opt = optim.Momentum(lr=lr, momentum=mu, schedule=sched)
    w_v, v = np.ones(5), np.zeros(5)
    w_b, b = np.ones(5), np.zeros(5)
    for t in range(1, 21):
        opt.update(w_book, {"w": a * w_book["w"]})
        lr_t = lr * sched(t)
        v = mu * v - lr_t * (a * w_v)  # book velocity form
        w_v = w_v + v
        b = mu * b + a * w_b  # torch buffer form
        w_b = w_b - lr_t * b
    np.testing.assert_array_equal(w_book["w"], w_v)
    assert np.max(np.abs(w_v - w_b)) > 1e-3

    # and with a constant lr the two forms agree
    opt = optim.Momentum(lr=lr, momentum=mu)
    w_book = {"w": np.ones(5)}
    w_b, b = np.ones(5), np.zeros(5)
    for _ in range(20):
        opt.update(w_book, {"w": a * w_book["w"]})
        b = mu * b + a * w_b
        w_b = w_b - lr * b
    np.testing.assert_allclose(w_book["w"], w_b, rtol=1e-13)


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("ours", "torch_sched"),
    [
        (
            optim.StepDecay(3, gamma=0.5),
            lambda torch, o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5),
        ),
        (
            optim.ExponentialDecay(0.9),
            lambda torch, o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9),
        ),
        (
            optim.CosineDecay(10, final_factor=0.1),
            lambda torch, o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 10, eta_min=0.1),
        ),
    ],
    ids=["StepLR", "ExponentialLR", "CosineAnnealingLR"],
)
def test_schedules_match_torch_lr_schedulers(ours, torch_sched):
    torch = pytest.importorskip("torch")
    w = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([w], lr=1.0)
    sched = torch_sched(torch, topt)
    for t in range(1, 11):  # torch's lr for step t is the one set before that step
        assert topt.param_groups[0]["lr"] == pytest.approx(ours(t), rel=1e-12, abs=1e-15), t
        topt.step()
        sched.step()


# -- every rule's actual step under a schedule --------------------------------
#
# Each function below is the rule's closed form written out independently (plain
# NumPy, its own order of operations), driven by the scheduled learning rates
# lr_1, lr_2, ...; hp are the rule's hyperparameters (the registry defaults).
# A rule that ignored its schedule (e.g. used its base lr inside its step
# scalars) moves w by steps of the size of lr, far beyond the tolerance.


def _sgd(hp, lrs, grads, w):
    for lr, g in zip(lrs, grads, strict=True):
        w = w - lr * g
    return w


def _momentum(hp, lrs, grads, w, nesterov=False):
    mu, v = hp["momentum"], 0.0
    for lr, g in zip(lrs, grads, strict=True):
        if nesterov:
            w = w + mu * mu * v - (1 + mu) * lr * g
        v = mu * v - lr * g
        if not nesterov:
            w = w + v
    return w


def _adagrad(hp, lrs, grads, w):
    h = hp["initial_accumulator_value"]
    for lr, g in zip(lrs, grads, strict=True):
        h = h + g * g
        w = w - lr * g / (np.sqrt(h) + hp["eps"])
    return w


def _rmsprop(hp, lrs, grads, w):
    rho, h = hp["decay_rate"], 0.0
    for lr, g in zip(lrs, grads, strict=True):
        h = rho * h + (1 - rho) * g * g
        w = w - lr * g / (np.sqrt(h) + hp["eps"])
    return w


def _adam(hp, lrs, grads, w, decay=0.0, amsgrad=False):
    b1, b2, m, v, v_max = hp["beta1"], hp["beta2"], 0.0, 0.0, 0.0
    for t, (lr, g) in enumerate(zip(lrs, grads, strict=True), start=1):
        w = w * (1 - lr * decay)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        vv = v_max if amsgrad else v
        w = w - lr * math.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(vv) + hp["eps"])
    return w


def _nadam(hp, lrs, grads, w):
    b1, b2, psi = hp["beta1"], hp["beta2"], hp["momentum_decay"]
    m, v, prod = 0.0, 0.0, 1.0
    for t, (lr, g) in enumerate(zip(lrs, grads, strict=True), start=1):
        mu, mu_next = b1 * (1 - 0.5 * 0.96 ** (t * psi)), b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod *= mu
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = mu_next * m / (1 - prod * mu_next) + (1 - mu) * g / (1 - prod)
        w = w - lr * m_hat / (np.sqrt(v / (1 - b2**t)) + hp["eps"])
    return w


def _adamax(hp, lrs, grads, w):
    b1, b2, m, u = hp["beta1"], hp["beta2"], 0.0, 0.0
    for t, (lr, g) in enumerate(zip(lrs, grads, strict=True), start=1):
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + hp["eps"])
        w = w - lr / (1 - b1**t) * m / u
    return w


def _adadelta(hp, lrs, grads, w):
    rho, eps, v, u = hp["rho"], hp["eps"], 0.0, 0.0
    for lr, g in zip(lrs, grads, strict=True):
        v = rho * v + (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        w = w - lr * delta
    return w


def _lion(hp, lrs, grads, w):
    b1, b2, m = hp["beta1"], hp["beta2"], 0.0
    for lr, g in zip(lrs, grads, strict=True):
        c = b1 * m + (1 - b1) * g
        w = w * (1 - lr * hp["weight_decay"]) - lr * np.sign(c)
        m = b2 * m + (1 - b2) * g
    return w


CLOSED_FORMS = {
    "sgd": _sgd,
    "momentum": _momentum,
    "nesterov": lambda hp, lrs, gs, w: _momentum(hp, lrs, gs, w, nesterov=True),
    "adagrad": _adagrad,
    "rmsprop": _rmsprop,
    "adam": _adam,
    "adamw": lambda hp, lrs, gs, w: _adam(hp, lrs, gs, w, decay=hp["weight_decay"]),
    "nadam": _nadam,
    "amsgrad": lambda hp, lrs, gs, w: _adam(hp, lrs, gs, w, amsgrad=True),
    "adamax": _adamax,
    "adadelta": _adadelta,
    "lion": _lion,
}


def test_every_registered_rule_has_a_closed_form_here():
    assert set(CLOSED_FORMS) == set(optim.names())


@pytest.mark.parametrize(
    "schedule",
    [optim.ExponentialDecay(0.5), optim.LinearWarmup(3, then=optim.StepDecay(2, gamma=0.3))],
    ids=["exponential", "warmup-step"],
)
@pytest.mark.parametrize("name", optim.names())
def test_every_rule_steps_with_the_scheduled_learning_rates(name, schedule):
    """The trajectory, not just current_lr(), follows lr * schedule(t) at every step.

    Tolerance rtol 1e-12 on w of size ~1: both sides do a few float64
    operations per step in different orders (a few ulp per step, 8 steps);
    a rule that ignored the schedule is off by about its lr (>= 1e-4) from step 2.
    """
    rng = np.random.default_rng(11)
    w0 = rng.uniform(0.5, 1.5, 7)
    grads = rng.standard_normal((8, 7)) * 10.0 ** rng.uniform(-3, 0, (8, 7))
    grads[:, 0] = 0.0  # one coordinate with no gradient at all
    opt = optim.create(name, schedule=schedule)
    lrs = [opt.lr * schedule(t) for t in range(1, 9)]
    p = {"w": w0.copy()}
    for g in grads:
        opt.update(p, {"w": g})
    want = CLOSED_FORMS[name](opt.hyperparameters(), lrs, grads, w0.copy())
    np.testing.assert_allclose(p["w"], want, rtol=1e-12, atol=0)
    # and the schedule mattered: the constant-lr closed form is far away
    const = CLOSED_FORMS[name](opt.hyperparameters(), [opt.lr] * 8, grads, w0.copy())
    assert np.max(np.abs(const - want)) > 1e-6
