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
