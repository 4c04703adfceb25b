"""Every rule against PyTorch ``torch.optim`` in float64, over 100 steps.

The mappings are in ``tests/_oracle.py`` (``CASES``). Two problems: random
gradients per step (elements spanning 1e-4 to 10 in size) and a random convex
quadratic whose gradient depends on the parameters. Parameter shapes include a
0-d array, a one-element array and a matrix, and for the random problem a
40000-element array, which optimlab steps in chunks of 32768
(``optimlab.optim.base.CHUNK``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from _oracle import CASES, TOL, Case, random_grads, run_ours, run_torch, trajectory_error
from optimlab import optim
from optimlab.optim.base import CHUNK

pytestmark = pytest.mark.oracle
torch = pytest.importorskip("torch")

STEPS = 100
SHAPES = {"scalar": (), "one": (1,), "vec": (7,), "mat": (3, 4), "big": (40000,)}
assert math.prod(SHAPES["big"]) > CHUNK


@pytest.fixture(scope="module")
def random_problem():
    rng = np.random.default_rng(0)
    w0 = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    grads = {k: random_grads(rng, s, STEPS) for k, s in SHAPES.items()}
    return w0, lambda t, k, w: grads[k][t]


@pytest.fixture(scope="module")
def quadratic_problem():
    """Stochastic gradients of f(w) = sum over keys of 1/2 (w - c)^T A (w - c).

    A is SPD with eigenvalues in [0.1, 2]; each step adds noise of size 0.3 to
    the gradient. Without noise, near the minimum the adaptive rules divide a
    vanishing gradient by a vanishing sqrt(h): the step then has a gain
    lr/sqrt(h) >> 1 with respect to w, so any 1-ulp difference between two
    correct implementations grows about tenfold per step (seen for RMSprop and
    NAdam: 1e-16 to 1e-4 in ten steps). The noise keeps sqrt(h) of order 0.3,
    so the comparison measures the rule, not that chaos.
    """
    rng = np.random.default_rng(1)
    w0, center, hess, noise = {}, {}, {}, {}
    for k, s in SHAPES.items():
        if k == "big":  # chunking is covered by the random problem; keep this one fast
            continue
        n = math.prod(s)
        w0[k] = rng.standard_normal(s)
        center[k] = rng.standard_normal(s)
        eig = rng.uniform(0.1, 2.0, n)
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        hess[k] = (q * eig) @ q.T
        noise[k] = 0.3 * rng.standard_normal((STEPS, n))

    def grad(t, k, w):
        d = (w - center[k]).reshape(-1)
        g = hess[k] @ d
        return (g + noise[k][t]).reshape(np.shape(w))

    return w0, grad


def _check(case: Case, w0, grad, check_state: bool) -> float:
    opt = case.ours()
    ours = run_ours(opt, w0, grad, STEPS)
    ref, tstate = run_torch(case, w0, grad, STEPS)
    err = trajectory_error(ours, ref, w0)
    assert err <= TOL, f"{case.id}: relative error {err:.3e} > {TOL:g}"
    if check_state and case.state_map:
        lr = case.torch_kwargs["lr"]
        for name, from_torch in case.state_map.items():
            for k in w0:
                want = np.asarray(from_torch(tstate[k], lr))
                got = getattr(opt, name)[k]
                scale = max(float(np.max(np.abs(want))), 1e-300)
                assert float(np.max(np.abs(got - want))) / scale <= TOL, (case.id, name, k)
    return err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_random_gradients_match_torch(case, random_problem):
    _check(case, *random_problem, check_state=True)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_quadratic_trajectory_matches_torch(case, quadratic_problem):
    _check(case, *quadratic_problem, check_state=False)


def test_every_rule_but_lion_has_a_torch_case():
    # Lion has no torch.optim counterpart: tests/test_optim_rules.py checks it by hand.
    covered = {type(c.ours()).name for c in CASES}
    assert covered == set(optim.names()) - {"lion"}


def test_the_book_adam_needs_the_eps_trick(random_problem):
    """Without the eps / sqrt(1 - beta2^t) hook the book's Adam is NOT torch's Adam."""
    adam_book = next(c for c in CASES if c.id == "adam_book")
    plain = Case("plain", adam_book.ours, "Adam", {**adam_book.torch_kwargs, "eps": 1e-7})
    w0, grad = random_problem
    ours = run_ours(plain.ours(), w0, grad, STEPS)
    ref, _ = run_torch(plain, w0, grad, STEPS)
    assert trajectory_error(ours, ref, w0) > 1e-9


def test_momentum_under_a_schedule_differs_from_torch_buffer_form():
    """Book velocity form vs torch buffer form: equal at constant lr, not under decay.

    With a schedule, torch steps ``W -= lr_t * b`` (the new lr rescales the whole
    accumulated buffer); the book's ``v = mu v - lr_t g`` rescales only the new
    gradient. Hand-computed for two steps of a scalar with g = 1 each step:
    lr_1 = 0.1, lr_2 = 0.05, mu = 0.9.
    """
    sched = optim.StepDecay(step_size=1, gamma=0.5)
    ours = optim.Momentum(lr=0.1, momentum=0.9, schedule=sched)
    p = {"w": np.array([0.0])}
    for _ in range(2):
        ours.update(p, {"w": np.array([1.0])})
    # book: v1 = -0.1, w1 = -0.1; v2 = 0.9 * -0.1 - 0.05 = -0.14, w2 = -0.24
    np.testing.assert_allclose(p["w"], [-0.24], rtol=1e-15)

    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.SGD([w], lr=0.1, momentum=0.9, foreach=False)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=1, gamma=0.5)
    for _ in range(2):
        w.grad = torch.ones(1, dtype=torch.float64)
        topt.step()
        tsched.step()
    # torch: b1 = 1, w1 = -0.1; b2 = 1.9, w2 = -0.1 - 0.05 * 1.9 = -0.195
    np.testing.assert_allclose(w.detach().numpy(), [-0.195], rtol=1e-15)
