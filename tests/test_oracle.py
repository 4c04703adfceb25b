"""Every row of ``optimlab.optim.equivalents.TABLE``, live, against its library.

Test ids are ``<row id>-<library>``; the row id starts with the rule's registry
name (``adam-book-torch``) or, for schedules, the schedule's class name in lower
case (``cosinedecay-optax``). Rules: 100 steps of random gradients (magnitudes
1e-4 to 1, random signs, exact zeros; see ``_oracle.random_grads``) on a 0-d
array, a one-element array, a matrix and a 40000-element array (optimlab steps
it in chunks of ``optimlab.optim.base.CHUNK``); with PyTorch also a noisy
quadratic whose gradient depends on the parameters. Schedules: the learning
rate of every step over three times the schedule's horizon. The bound is the
row's (``TOL`` = 1e-12 relative in float64, or a looser one whose cause is
written next to it in the table).

Then one test for each of the ten claims of issue 14 that the table's
documentation now states: what the usual library calls do instead.

A library that is not installed skips its tests; ``tests/test_optim_golden.py``
replays the stored trajectories of every row without them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import _oracle
from _oracle import (
    SHAPES,
    lib_lrs,
    lr_error,
    make_ours,
    match_cases,
    need,
    our_lrs,
    random_grads,
    run_lib,
    run_ours,
    torch_dtype,
    trajectory_error,
)
from optimlab import optim
from optimlab.optim.base import CHUNK
from optimlab.optim.equivalents import TABLE, TOL, Match, Row

pytestmark = pytest.mark.oracle

STEPS = 100
assert math.prod(SHAPES["big"]) > CHUNK

RULE_CASES = match_cases("rule")
SCHEDULE_CASES = match_cases("schedule")
ROWS = {r.id: r for r in TABLE}


def _ids(cases: list[tuple[Row, str]]) -> list[str]:
    return [f"{r.id}-{lib}" for r, lib in cases]


@pytest.fixture(scope="module")
def random_problem():
    return _oracle.random_problem(STEPS)


@pytest.fixture(scope="module")
def ours_on_random(random_problem):
    """optimlab's trajectory per row id, computed once for all libraries."""
    cache: dict[str, dict[str, np.ndarray]] = {}

    def get(r: Row) -> dict[str, np.ndarray]:
        if r.id not in cache:
            cache[r.id] = run_ours(make_ours(r), *random_problem, STEPS)
        return cache[r.id]

    return get


@pytest.fixture(scope="module")
def quadratic_problem():
    """Stochastic gradients of f(w) = sum over keys of 1/2 (w - c)^T A (w - c).

    A is SPD with eigenvalues in [0.1, 2]; each step adds noise of size 0.3 to
    the gradient. Without noise, near the minimum the adaptive rules divide a
    vanishing gradient by a vanishing sqrt(h): the step then has a gain
    lr/sqrt(h) >> 1 with respect to w, so any 1-ulp difference between two
    correct implementations grows about tenfold per step. The noise keeps
    sqrt(h) of order 0.3, so the comparison measures the rule, not that chaos.
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
        return (hess[k] @ d + noise[k][t]).reshape(np.shape(w))

    return w0, grad


def _bound(r: Row, lib: str) -> float:
    m = r.entry(lib)
    assert isinstance(m, Match)
    return m.tol


@pytest.mark.parametrize(("row", "lib"), RULE_CASES, ids=_ids(RULE_CASES))
def test_rule_matches_library(row, lib, random_problem, ours_on_random):
    need(lib)
    ref = run_lib(row, lib, *random_problem, STEPS)
    err = trajectory_error(ours_on_random(row), ref, random_problem[0])
    assert err <= _bound(row, lib), f"{row.id} vs {lib}: relative error {err:.3e}"


TORCH_CASES = [(r, lib) for r, lib in RULE_CASES if lib == "torch"]

#: optimlab's state arrays as torch's (row id -> optimlab name -> (torch name, factor)):
#: the velocity is -lr times torch's momentum buffer, the rest are the same arrays
TORCH_STATE = {
    "momentum-custom": {"v": ("momentum_buffer", -0.05)},
    "nesterov-custom": {"v": ("momentum_buffer", -0.05)},
    "adagrad-custom": {"h": ("sum", 1.0)},
    "rmsprop-centered": {"h": ("square_avg", 1.0), "g_avg": ("grad_avg", 1.0)},
    "adam-book": {"m": ("exp_avg", 1.0), "v": ("exp_avg_sq", 1.0)},
    "amsgrad-paper": {"v_max": ("max_exp_avg_sq", 1.0)},
    "nadam-custom": {"m": ("exp_avg", 1.0), "v": ("exp_avg_sq", 1.0)},
    "adamax-custom": {"m": ("exp_avg", 1.0), "u": ("exp_inf", 1.0)},
    "adadelta-custom": {"v": ("square_avg", 1.0), "u": ("acc_delta", 1.0)},
}


@pytest.mark.parametrize("row_id", sorted(TORCH_STATE))
def test_state_equals_torchs(row_id, random_problem):
    """optimlab's named state (``opt.v``, ``opt.h``, ...) is torch's, array for array."""
    need("torch")
    row = ROWS[row_id]
    opt = make_ours(row)
    run_ours(opt, *random_problem, STEPS)
    tstate: dict[str, dict[str, np.ndarray]] = {}
    run_lib(row, "torch", *random_problem, STEPS, state_out=tstate)
    for name, (tname, factor) in TORCH_STATE[row_id].items():
        for k in SHAPES:
            want = factor * tstate[tname][k]
            scale = max(float(np.max(np.abs(want))), 1e-300)
            err = float(np.max(np.abs(getattr(opt, name)[k] - want))) / scale
            assert err <= TOL, (row_id, name, k, err)


@pytest.mark.parametrize(("row", "lib"), TORCH_CASES, ids=_ids(TORCH_CASES))
def test_rule_matches_torch_on_a_quadratic(row, lib, quadratic_problem):
    need(lib)
    ours = run_ours(make_ours(row), *quadratic_problem, STEPS)
    err = trajectory_error(ours, run_lib(row, lib, *quadratic_problem, STEPS), quadratic_problem[0])
    assert err <= _bound(row, lib), f"{row.id} vs {lib}: relative error {err:.3e}"


@pytest.mark.parametrize(("row", "lib"), SCHEDULE_CASES, ids=_ids(SCHEDULE_CASES))
def test_schedule_matches_library(row, lib):
    need(lib)
    steps = 3 * row.horizon
    err = lr_error(our_lrs(row, steps), lib_lrs(row, lib, steps))
    assert err <= _bound(row, lib), f"{row.id} vs {lib}: relative error {err:.3e}"


# -- the ten claims of issue 14 --------------------------------------------------------------
def _ours(spec: str, w0, grad) -> dict[str, np.ndarray]:
    return run_ours(optim.create(spec), w0, grad, STEPS)


def _optax_run(tx, w0, grad) -> dict[str, np.ndarray]:
    """A plain Optax transformation over the problem (no table row)."""
    optax = need("optax")
    params = {k: np.array(v, dtype=np.float64) for k, v in w0.items()}
    state = tx.init(params)
    traj = {k: np.empty((STEPS, *np.shape(v))) for k, v in w0.items()}
    for t in range(STEPS):
        updates, state = tx.update({k: grad(t, k, p) for k, p in params.items()}, state, params)
        params = {k: np.asarray(v) for k, v in optax.apply_updates(params, updates).items()}
        for k, p in params.items():
            traj[k][t] = p
    return traj


def _keras_run(kopt, w0, grad) -> dict[str, np.ndarray]:
    keras = need("keras")
    keys = list(w0)
    variables = [keras.Variable(np.array(w0[k]), dtype="float64") for k in keys]
    kopt.build(variables)
    traj = {k: np.empty((STEPS, *np.shape(v))) for k, v in w0.items()}
    for t in range(STEPS):
        kopt.apply(
            [grad(t, k, np.asarray(v.value)) for k, v in zip(keys, variables, strict=True)],
            variables,
        )
        for k, v in zip(keys, variables, strict=True):
            traj[k][t] = np.asarray(v.value)
    return traj


@pytest.fixture(scope="module")
def small_problem():
    rng = np.random.default_rng(2)
    w0 = {"w": rng.standard_normal(50)}
    grads = random_grads(rng, (50,), STEPS)
    return w0, lambda t, k, w: grads[t]


#: "differs" below means by far more than any bound of the table: >= 1e-3
#: relative where the rows agree to 1e-12 (1e-6 for Keras's float32 cosine).
DIFFERS = 1e-3


def test_claim1_optax_amsgrad_is_corrected_max_not_the_raw_max(small_problem):
    optax = need("optax")
    tx = optax.amsgrad(0.01, b1=0.85, b2=0.995, eps=1e-8)
    ref = _optax_run(tx, *small_problem)
    base = "amsgrad:lr=0.01,beta1=0.85,beta2=0.995,eps=1e-08,eps_form=paper"
    assert (
        trajectory_error(_ours(base + ",corrected_max=true", *small_problem), ref, small_problem[0])
        <= TOL
    )
    assert trajectory_error(_ours(base, *small_problem), ref, small_problem[0]) > DIFFERS


def test_claim2_keras_nadam_is_momentum_decay_1_not_pytorchs(small_problem):
    keras = need("keras")
    ref = _keras_run(keras.optimizers.Nadam(0.01, beta_1=0.85, beta_2=0.995), *small_problem)
    base = "nadam:lr=0.01,beta1=0.85,beta2=0.995,eps=1e-07"
    keras_err = trajectory_error(
        _ours(base + ",momentum_decay=1.0", *small_problem), ref, small_problem[0]
    )
    torch_err = trajectory_error(_ours(base, *small_problem), ref, small_problem[0])
    assert keras_err <= TOL
    assert torch_err > DIFFERS


def test_claim3_optax_nadam_is_momentum_decay_inf(small_problem):
    optax = need("optax")
    ref = _optax_run(optax.nadam(0.01, b1=0.85, b2=0.995, eps=1e-8), *small_problem)
    base = "nadam:lr=0.01,beta1=0.85,beta2=0.995,eps=1e-08"
    assert (
        trajectory_error(_ours(base + ",momentum_decay=inf", *small_problem), ref, small_problem[0])
        <= TOL
    )
    assert trajectory_error(_ours(base, *small_problem), ref, small_problem[0]) > DIFFERS


def test_claim4_optax_adadelta_without_learning_rate_ascends(small_problem):
    """``learning_rate=None`` skips Optax's sign flip: the exact opposite displacement."""
    optax = need("optax")
    w0, grad = small_problem
    ours = _ours("adadelta", w0, grad)
    ascent = _optax_run(optax.adadelta(rho=0.9, eps=1e-6), w0, grad)
    mirrored = {"w": 2 * w0["w"] - ascent["w"]}  # w0 - (w_t - w0)
    assert trajectory_error(ours, mirrored, w0) <= TOL
    descent = _optax_run(optax.adadelta(learning_rate=1.0, rho=0.9, eps=1e-6), w0, grad)
    assert trajectory_error(ours, descent, w0) <= TOL


def test_claim5_cosine_annealing_lr_equals_cosine_decay_only_up_to_t():
    torch = need("torch")
    total, final = 20, 0.1
    ours = optim.create("sgd:lr=0.5", schedule=optim.CosineDecay(total, final))
    with torch_dtype():
        w = torch.zeros(1, requires_grad=True)
        topt = torch.optim.SGD([w], lr=0.5)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, total, eta_min=final * 0.5)
        theirs = []
        for _ in range(3 * total):
            theirs.append(topt.param_groups[0]["lr"])
            topt.step()
            sched.step()
    mine = np.array([ours.current_lr(t) for t in range(1, 3 * total + 1)])
    rel = np.abs(mine - np.array(theirs)) / mine
    assert rel[: total + 1].max() <= TOL  # steps 1 .. T + 1
    assert rel[total + 1 :].max() > 1.0  # PyTorch rises back toward lr after T


def test_claim6_linear_warmup_is_one_step_ahead_of_optax_and_keras_warmups():
    """Step t uses t/w here; ``linear_schedule(0, lr, w)`` and Keras's warm-up give (t-1)/w."""
    optax, keras = need("optax"), need("keras")
    w, lr = 5, 0.5
    ours = optim.create(f"sgd:lr={lr}", schedule=optim.LinearWarmup(w))
    mine = np.array([ours.current_lr(t) for t in range(1, w + 1)])
    fn = optax.linear_schedule(0.0, lr, w)
    kfn = keras.optimizers.schedules.CosineDecay(0.0, 10, warmup_target=lr, warmup_steps=w)
    usual = np.array([float(fn(t - 1)) for t in range(1, w + 1)])  # the count of step t is t-1
    # Keras's CosineDecay returns float32 (its cosine branch): 6e-8 relative rounding
    np.testing.assert_allclose(usual, [float(kfn(t - 1)) for t in range(1, w + 1)], rtol=1e-6)
    np.testing.assert_allclose(mine, [float(fn(t)) for t in range(1, w + 1)], rtol=TOL)
    assert usual[0] == 0.0 and mine[0] == lr / w
    assert np.all(mine - usual >= lr / w - 1e-15)


def test_claim7_the_old_keras_adadelta_call_is_not_the_equal_one(small_problem):
    keras = need("keras")
    ref = _keras_run(keras.optimizers.Adadelta(rho=0.95), *small_problem)
    assert trajectory_error(_ours("adadelta", *small_problem), ref, small_problem[0]) > DIFFERS


def test_claim8_torch_nadam_needs_default_dtype_float64(small_problem):
    need("torch")
    row = ROWS["nadam-defaults"]
    ours = _ours(row.spec, *small_problem)
    err64 = trajectory_error(ours, run_lib(row, "torch", *small_problem, STEPS), small_problem[0])
    err32 = trajectory_error(
        ours, run_lib(row, "torch", *small_problem, STEPS, dtype_name="float32"), small_problem[0]
    )
    assert err64 <= TOL
    # float32 momentum product: ~1e-7 relative in mu_product, diluted to ~5e-10 in the steps
    assert 100 * TOL < err32 < 1e-6


def test_claim9_keras_and_optax_rmsprop_put_eps_inside_the_root(small_problem):
    keras, optax = need("keras"), need("optax")
    w0, grad = small_problem
    ref_k = _keras_run(keras.optimizers.RMSprop(0.02, rho=0.9, epsilon=1e-7), w0, grad)
    ref_o = _optax_run(optax.rmsprop(0.02, decay=0.9, eps=1e-7), w0, grad)
    base = "rmsprop:lr=0.02,decay_rate=0.9"
    inside = _ours(base + ",eps_inside_sqrt=true", w0, grad)
    assert trajectory_error(inside, ref_k, w0) <= TOL
    assert trajectory_error(inside, ref_o, w0) <= TOL
    assert trajectory_error(_ours(base, w0, grad), ref_k, w0) > DIFFERS


def test_claim9_one_step_differs_tenfold_below_sqrt_eps():
    """g = 1e-5 < sqrt(eps): sqrt(h) + eps = 3.2e-6 + 1e-7; sqrt(h + eps) = 3.3e-4."""
    g = np.array([1e-5])
    steps = {}
    for inside in (False, True):
        p = {"w": np.zeros(1)}
        optim.create(f"rmsprop:decay_rate=0.9,eps_inside_sqrt={inside}").update(p, {"w": g})
        steps[inside] = -p["w"][0]
    assert steps[False] / steps[True] > 10


def test_claim10_keras_adamax_adds_eps_outside_the_max(small_problem):
    keras = need("keras")
    ref = _keras_run(
        keras.optimizers.Adamax(0.01, beta_1=0.85, beta_2=0.995, epsilon=1e-7), *small_problem
    )
    base = "adamax:lr=0.01,beta1=0.85,beta2=0.995"
    assert (
        trajectory_error(
            _ours(base + ",eps_inside_max=false", *small_problem), ref, small_problem[0]
        )
        <= TOL
    )
    # the two forms differ only where u is within a few ε of |g|: 1.3e-7 on this
    # problem, far above the float64 agreement of the equal form
    assert trajectory_error(_ours(base, *small_problem), ref, small_problem[0]) > 1e3 * TOL


# -- adaptations the table relies on ---------------------------------------------------------
def test_the_book_adam_needs_the_per_step_eps(random_problem, ours_on_random):
    """Without ``book_eps`` PyTorch's Adam is not the book's: the adaptation is needed."""
    need("torch")
    row = ROWS["adam-book"]
    m = row.torch
    assert isinstance(m, Match) and m.per_step == "book_eps"
    plain = Row(row.id, row.spec, torch=Match(m.call), optax=row.optax, keras=row.keras)
    ref = run_lib(plain, "torch", *random_problem, STEPS)
    assert trajectory_error(ours_on_random(row), ref, random_problem[0]) > 1e-9


def test_momentum_under_a_schedule_differs_from_torch_buffer_form():
    """Book velocity form vs torch buffer form: equal at constant lr, not under decay.

    Hand-computed for two steps of a scalar with g = 1 each step:
    lr_1 = 0.1, lr_2 = 0.05, mu = 0.9.
    """
    torch = need("torch")
    sched = optim.StepDecay(step_size=1, gamma=0.5)
    ours = optim.Momentum(lr=0.1, momentum=0.9, schedule=sched)
    p = {"w": np.array([0.0])}
    for _ in range(2):
        ours.update(p, {"w": np.array([1.0])})
    # book: v1 = -0.1, w1 = -0.1; v2 = 0.9 * -0.1 - 0.05 = -0.14, w2 = -0.24
    np.testing.assert_allclose(p["w"], [-0.24], rtol=1e-15)
    with torch_dtype():
        w = torch.zeros(1, requires_grad=True)
        topt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
        tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=1, gamma=0.5)
        for _ in range(2):
            w.grad = torch.ones(1)
            topt.step()
            tsched.step()
        # torch: b1 = 1, w1 = -0.1; b2 = 1.9, w2 = -0.1 - 0.05 * 1.9 = -0.195
        np.testing.assert_allclose(w.detach().numpy(), [-0.195], rtol=1e-15)
