"""The PyTorch oracle for the update rules: mappings, problems and error measure.

Used by ``tests/test_optim_oracle.py`` (live comparison, needs torch) and by
``tests/golden/regenerate.py`` (writes the golden trajectories that
``tests/test_optim_golden.py`` replays without torch). NumPy-only at import
time; torch is imported inside the functions that need it.

Each :class:`Case` pairs an optimlab rule with the torch.optim rule it must
equal, plus an optional hook run before every torch step (the book's Adam is
torch's Adam with ``eps`` set to ``1e-7 / sqrt(1 - beta2^t)`` before step t).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimlab import optim

__all__ = [
    "CASES",
    "Case",
    "golden_problem",
    "random_grads",
    "run_ours",
    "run_torch",
    "trajectory_error",
]

#: float64 oracle tolerance. Both sides do the same few float64 operations per
#: element per step, in a slightly different order (torch: ``lerp``,
#: ``addcmul``, ``addcdiv``), so each step differs by a few ulp relative to the
#: quantities involved; over 100 steps that stays below 1e-13 relative to the
#: parameter scale. 1e-12 leaves a margin and would still catch any wrong
#: constant, swapped argument or off-by-one in t (those are >= 1e-6).
TOL = 1e-12

Hook = Callable[[Any, int], None]


def _book_eps_hook(eps: float, beta2: float) -> Hook:
    """Before torch step t, set torch's eps to the book's eps / sqrt(1 - beta2^t)."""

    def hook(topt: Any, t: int) -> None:
        for group in topt.param_groups:
            group["eps"] = eps / math.sqrt(1.0 - beta2**t)

    return hook


@dataclass(frozen=True)
class Case:
    """One optimlab rule and the torch rule it equals."""

    id: str
    ours: Callable[[], optim.Optimizer]
    torch_name: str
    torch_kwargs: dict[str, Any]
    hook: Hook | None = None
    #: optimlab state name -> function(torch_state, lr) giving the same array
    state_map: dict[str, Callable[[dict[str, Any], float], Any]] | None = None

    def make_torch(self, params: Sequence[Any]) -> Any:
        import torch

        cls = getattr(torch.optim, self.torch_name)
        return cls(params, foreach=False, **self.torch_kwargs)


def _velocity(st: dict[str, Any], lr: float) -> Any:
    return -lr * st["momentum_buffer"].numpy()  # v = -lr * buf


B1, B2 = 0.85, 0.995  # not the defaults, so that a swapped or ignored beta shows

CASES: list[Case] = [
    Case("sgd", lambda: optim.SGD(lr=0.1), "SGD", {"lr": 0.1}),
    Case(
        "momentum",
        lambda: optim.Momentum(lr=0.05, momentum=0.8),
        "SGD",
        {"lr": 0.05, "momentum": 0.8},
        state_map={"v": _velocity},
    ),
    Case(
        "nesterov",
        lambda: optim.Nesterov(lr=0.05, momentum=0.8),
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "nesterov": True},
        state_map={"v": _velocity},
    ),
    Case(
        "adagrad",
        lambda: optim.AdaGrad(lr=0.1),
        "Adagrad",
        {"lr": 0.1, "eps": 1e-7, "lr_decay": 0.0},
        state_map={"h": lambda st, lr: st["sum"].numpy()},
    ),
    Case(
        "adagrad_init",
        lambda: optim.AdaGrad(lr=0.1, initial_accumulator_value=0.1),
        "Adagrad",
        {"lr": 0.1, "eps": 1e-7, "initial_accumulator_value": 0.1},
    ),
    Case(
        "adagrad_lr_decay",
        lambda: optim.AdaGrad(lr=0.1, schedule=optim.InverseTimeDecay(0.05)),
        "Adagrad",
        {"lr": 0.1, "eps": 1e-7, "lr_decay": 0.05},
    ),
    Case(
        "rmsprop",
        lambda: optim.RMSprop(lr=0.01, decay_rate=0.9),
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "eps": 1e-7},
        state_map={"h": lambda st, lr: st["square_avg"].numpy()},
    ),
    Case(
        "rmsprop_centered",
        lambda: optim.RMSprop(lr=0.01, decay_rate=0.9, centered=True),
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "eps": 1e-7, "centered": True},
    ),
    Case(
        "adam_book",
        lambda: optim.Adam(lr=0.01, beta1=B1, beta2=B2),
        "Adam",
        {"lr": 0.01, "betas": (B1, B2)},
        hook=_book_eps_hook(1e-7, B2),
        state_map={
            "m": lambda st, lr: st["exp_avg"].numpy(),
            "v": lambda st, lr: st["exp_avg_sq"].numpy(),
        },
    ),
    Case(
        "adam_paper",
        lambda: optim.Adam(lr=0.01, beta1=B1, beta2=B2, eps=1e-8, eps_form="paper"),
        "Adam",
        {"lr": 0.01, "betas": (B1, B2), "eps": 1e-8},
    ),
    Case(
        "amsgrad_book",
        lambda: optim.AMSGrad(lr=0.01, beta1=B1, beta2=B2),
        "Adam",
        {"lr": 0.01, "betas": (B1, B2), "amsgrad": True},
        hook=_book_eps_hook(1e-7, B2),
        state_map={"v_max": lambda st, lr: st["max_exp_avg_sq"].numpy()},
    ),
    Case(
        "amsgrad_paper",
        lambda: optim.Adam(lr=0.01, beta1=B1, beta2=B2, eps=1e-8, eps_form="paper", amsgrad=True),
        "Adam",
        {"lr": 0.01, "betas": (B1, B2), "eps": 1e-8, "amsgrad": True},
    ),
    Case(
        "adamw_paper",
        lambda: optim.AdamW(
            lr=0.01, beta1=B1, beta2=B2, weight_decay=0.5, eps=1e-8, eps_form="paper"
        ),
        "AdamW",
        {"lr": 0.01, "betas": (B1, B2), "eps": 1e-8, "weight_decay": 0.5},
    ),
    Case(
        "adamw_book",
        lambda: optim.AdamW(lr=0.01, beta1=B1, beta2=B2, weight_decay=0.5),
        "AdamW",
        {"lr": 0.01, "betas": (B1, B2), "weight_decay": 0.5},
        hook=_book_eps_hook(1e-7, B2),
    ),
    Case(
        "nadam",
        lambda: optim.NAdam(lr=0.01, beta1=B1, beta2=B2, eps=1e-8, momentum_decay=0.004),
        "NAdam",
        {"lr": 0.01, "betas": (B1, B2), "eps": 1e-8, "momentum_decay": 0.004},
    ),
    Case(
        "adamax",
        lambda: optim.Adamax(lr=0.01, beta1=B1, beta2=B2),
        "Adamax",
        {"lr": 0.01, "betas": (B1, B2), "eps": 1e-7},
        state_map={"u": lambda st, lr: st["exp_inf"].numpy()},
    ),
    Case(
        "adadelta",
        lambda: optim.Adadelta(lr=0.5, rho=0.8, eps=1e-6),
        "Adadelta",
        {"lr": 0.5, "rho": 0.8, "eps": 1e-6},
        state_map={
            "v": lambda st, lr: st["square_avg"].numpy(),
            "u": lambda st, lr: st["acc_delta"].numpy(),
        },
    ),
]


def random_grads(rng: np.random.Generator, shape: tuple[int, ...], steps: int) -> np.ndarray:
    """``steps`` gradients of ``shape`` whose elements span 1e-4 to 10 in magnitude.

    Mixed scales make epsilon matter for some elements and not for others, so a
    misplaced epsilon shows.
    """
    scale = 10.0 ** rng.uniform(-4.0, 1.0, size=shape)
    return rng.standard_normal((steps, *shape)) * scale


def golden_problem(steps: int = 100, size: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """The golden files' problem: initial params ``(size,)`` and grads ``(steps, size)``."""
    rng = np.random.default_rng(20240513)
    w0 = rng.standard_normal(size)
    return w0, random_grads(rng, (size,), steps)


GradFn = Callable[[int, str, np.ndarray], np.ndarray]


def run_ours(
    opt: optim.Optimizer, w0: dict[str, np.ndarray], grad: GradFn, steps: int
) -> dict[str, np.ndarray]:
    """Trajectories ``{key: (steps, *shape)}`` of optimlab's ``update``.

    ``grad(t, key, w)`` gives the gradient at step ``t`` (0-based) of the
    current parameter ``w``.
    """
    params = {k: np.array(v, dtype=np.float64) for k, v in w0.items()}
    traj = {k: np.empty((steps, *v.shape)) for k, v in params.items()}
    for t in range(steps):
        opt.update(params, {k: grad(t, k, w) for k, w in params.items()})
        for k, w in params.items():
            traj[k][t] = w
    return traj


@contextlib.contextmanager
def _float64_torch() -> Iterator[Any]:
    # torch keeps scalar state (NAdam's mu_product, the step count) in the
    # default dtype; float32 there would cost ~1e-8 relative.
    import torch

    old, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)  # small elementwise steps: threads only add contention
    try:
        yield torch
    finally:
        torch.set_default_dtype(old)
        torch.set_num_threads(threads)


def run_torch(
    case: Case,
    w0: dict[str, np.ndarray],
    grad: GradFn,
    steps: int,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Trajectories of ``case``'s torch rule, and its final state per key."""
    with _float64_torch() as torch:
        tparams = {
            k: torch.tensor(np.array(v, dtype=np.float64), requires_grad=True)
            for k, v in w0.items()
        }
        topt = case.make_torch(list(tparams.values()))
        traj = {k: np.empty((steps, *np.shape(v))) for k, v in w0.items()}
        for t in range(steps):
            for k, p in tparams.items():
                p.grad = torch.from_numpy(
                    np.array(grad(t, k, p.detach().numpy().copy()), dtype=np.float64)
                )
            if case.hook is not None:
                case.hook(topt, t + 1)
            topt.step()
            for k, p in tparams.items():
                traj[k][t] = p.detach().numpy()
        state = {k: topt.state[p] for k, p in tparams.items()}
    return traj, state


def trajectory_error(
    ours: dict[str, np.ndarray], ref: dict[str, np.ndarray], w0: dict[str, np.ndarray]
) -> float:
    """Largest relative error of the displacement ``w_t - w_0`` over keys and steps.

    Measured on the displacement, not on ``w_t``, so that the error is relative
    to what the optimizer did (steps of size ~lr), not to the initial values.
    The scale is the largest displacement of that key over the whole run.
    """
    worst = 0.0
    for k, r in ref.items():
        d_ref = r - np.asarray(w0[k])
        d_ours = ours[k] - np.asarray(w0[k])
        scale = float(np.max(np.abs(d_ref)))
        assert scale > 0.0, f"{k}: the oracle did not move"
        worst = max(worst, float(np.max(np.abs(d_ours - d_ref))) / scale)
    return worst
