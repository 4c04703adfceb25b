"""Build and run the library side of ``optimlab.optim.equivalents.TABLE``.

Used by ``tests/test_oracle.py`` (live comparisons), ``tests/golden/regenerate.py``
(the stored trajectories that ``tests/test_optim_golden.py`` replays without the
libraries) and ``scripts/oracle_report.py``. NumPy-only at import time: each
library is imported by the function that needs it, PyTorch in float64
(default dtype) and JAX with x64 on; Keras 3 runs on its JAX backend with
``floatx`` float64.

A row's library side runs on the same problem as optimlab: ``w0`` (a dict of
initial arrays) and ``grad(t, key, w)``, the gradient at 0-based step ``t`` of
the current parameter ``w``.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from optimlab import optim
from optimlab.optim.equivalents import TABLE, Call, Match, Row

__all__ = [
    "GradFn",
    "golden_problem",
    "lib_lrs",
    "match_cases",
    "need",
    "our_lrs",
    "random_grads",
    "random_problem",
    "run_lib",
    "run_ours",
    "trajectory_error",
]

GradFn = Callable[[int, str, np.ndarray], np.ndarray]


# -- problems -------------------------------------------------------------------
def random_grads(rng: np.random.Generator, shape: tuple[int, ...], steps: int) -> np.ndarray:
    """``steps`` gradients of ``shape``: magnitudes log-uniform in [1e-4, 1], random signs.

    About one element in ten is exactly 0, and so is the whole gradient of
    step 3 (index 2): with mixed scales ε matters for some elements and not for
    others, so a misplaced ε shows; zeros test sign(0) and 0/ε.
    """
    size = (steps, *shape)
    g = rng.choice([-1.0, 1.0], size=size) * 10.0 ** rng.uniform(-4.0, 0.0, size=size)
    g[rng.random(size) < 0.1] = 0.0
    if steps > 2:
        g[2] = 0.0
    return g


#: the live tests' parameter shapes: a 0-d array, a one-element array, a matrix
#: and an array larger than ``optimlab.optim.base.CHUNK`` (stepped in chunks)
SHAPES: dict[str, tuple[int, ...]] = {"scalar": (), "one": (1,), "mat": (3, 4), "big": (40000,)}


def random_problem(steps: int = 100) -> tuple[dict[str, np.ndarray], GradFn]:
    """The live tests' problem: initial arrays of :data:`SHAPES` and random gradients."""
    rng = np.random.default_rng(0)
    w0 = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    grads = {k: random_grads(rng, s, steps) for k, s in SHAPES.items()}
    return w0, lambda t, k, w: grads[k][t]


def golden_problem(steps: int = 100, size: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """The golden files' problem: initial params ``(size,)`` and grads ``(steps, size)``."""
    rng = np.random.default_rng(20240513)
    w0 = rng.standard_normal(size)
    return w0, random_grads(rng, (size,), steps)


def match_cases(kind: str = "rule") -> list[tuple[Row, str]]:
    """Every ``(row, library)`` of the table with a :class:`Match`, rules or schedules."""
    want_schedule = kind == "schedule"
    return [
        (r, lib)
        for r in TABLE
        if r.is_schedule == want_schedule
        for lib in ("torch", "optax", "keras")
        if isinstance(r.entry(lib), Match)
    ]


# -- optimlab's side -----------------------------------------------------------------
def make_ours(r: Row) -> optim.Optimizer:
    """The optimlab rule of a row, through the public ``create``."""
    if r.schedule is None:
        return optim.create(r.spec)
    return optim.create(r.spec, schedule=r.schedule.build())


def run_ours(
    opt: optim.Optimizer, w0: dict[str, np.ndarray], grad: GradFn, steps: int
) -> dict[str, np.ndarray]:
    """Trajectories ``{key: (steps, *shape)}`` of optimlab's ``update``."""
    params = {k: np.array(v, dtype=np.float64) for k, v in w0.items()}
    traj = {k: np.empty((steps, *v.shape)) for k, v in params.items()}
    for t in range(steps):
        opt.update(params, {k: grad(t, k, w) for k, w in params.items()})
        for k, w in params.items():
            traj[k][t] = w
    return traj


def our_lrs(r: Row, steps: int) -> np.ndarray:
    """The learning rate of steps ``1 .. steps`` of a schedule row."""
    opt = make_ours(r)
    return np.array([opt.current_lr(t) for t in range(1, steps + 1)])


# -- the libraries ------------------------------------------------------------------
def _jax() -> Any:
    import jax

    jax.config.update("jax_enable_x64", True)  # before any array exists
    return jax


def library(lib: str) -> Any:
    """The imported top-level module, configured for float64."""
    if lib == "keras":
        if os.environ.setdefault("KERAS_BACKEND", "jax") != "jax":
            raise RuntimeError("the Keras oracle needs KERAS_BACKEND=jax")
        _jax()
        import keras

        keras.config.set_floatx("float64")
        return keras
    if lib == "optax":
        _jax()
    return importlib.import_module(lib)


#: the packages each library needs, for ``pytest.importorskip``
PACKAGES = {"torch": ("torch",), "optax": ("jax", "optax"), "keras": ("jax", "keras")}


def need(lib: str) -> Any:
    """In a test: the configured library, or skip the test when it is not installed.

    Keras is imported only with its JAX backend chosen first: without it Keras
    3 would try TensorFlow and a missing TensorFlow would look like a missing
    Keras.
    """
    import pytest

    if lib == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")
    for package in PACKAGES[lib]:
        pytest.importorskip(package)
    return library(lib)


def _resolve(target: str) -> Any:
    obj = library(target.partition(".")[0])
    for part in target.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def build(c: Call, torch_opt: Any = None) -> Any:
    """Call ``c`` (nested calls built first; a torch scheduler gets ``torch_opt``)."""

    def value(v: Any) -> Any:
        if isinstance(v, Call):
            return build(v, torch_opt)
        if isinstance(v, list):
            return [value(x) for x in v]
        return v

    kwargs = {k: value(v) for k, v in c.args}
    if c.target.startswith("torch.optim.lr_scheduler."):
        return _resolve(c.target)(torch_opt, **kwargs)
    return _resolve(c.target)(**kwargs)


def _book_eps(opt: optim.Optimizer, t: int) -> float:
    return opt.eps / math.sqrt(1.0 - opt.beta2**t)  # type: ignore[attr-defined]


def _paper_eps(opt: optim.Optimizer, t: int) -> float:
    return opt.eps * math.sqrt(1.0 - opt.beta2**t)  # type: ignore[attr-defined]


_PER_STEP = {"book_eps": _book_eps, "paper_eps": _paper_eps}


@contextlib.contextmanager
def torch_dtype(dtype_name: str = "float64") -> Iterator[Any]:
    """PyTorch with the given default dtype and one thread, restored afterwards.

    torch keeps scalar state (NAdam's momentum product) in the default dtype.
    """
    torch = library("torch")
    old, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(getattr(torch, dtype_name))
    torch.set_num_threads(1)  # small elementwise steps: threads only add contention
    try:
        yield torch
    finally:
        torch.set_default_dtype(old)
        torch.set_num_threads(threads)


def _run_torch(
    m: Match, ours: optim.Optimizer, w0, grad, steps, dtype_name="float64", state_out=None
):
    """``state_out``, a dict, receives torch's final state arrays of parameter ``"w"``."""
    with torch_dtype(dtype_name) as torch:
        tparams = {k: torch.tensor(np.array(v, dtype=np.float64)) for k, v in w0.items()}
        for p in tparams.values():
            p.requires_grad_(True)
        topt = _resolve(m.call.target)(list(tparams.values()), **_plain(m.call))
        sched = None if m.scheduler is None else build(m.scheduler, topt)
        traj = {k: np.empty((steps, *np.shape(v))) for k, v in w0.items()}
        for t in range(steps):
            for k, p in tparams.items():
                g = np.array(grad(t, k, p.detach().numpy().copy()), dtype=np.float64)
                p.grad = torch.from_numpy(g)
            if m.per_step is not None:
                for group in topt.param_groups:
                    group["eps"] = _PER_STEP[m.per_step](ours, t + 1)
            topt.step()
            if sched is not None:
                sched.step()
            for k, p in tparams.items():
                traj[k][t] = p.detach().numpy()
        if state_out is not None:
            st = topt.state[tparams["w"]]
            state_out.update({k: v.numpy().copy() for k, v in st.items() if v.ndim > 0})
    return traj


def _plain(c: Call) -> dict[str, Any]:
    """Keyword arguments of a call whose values hold no nested call."""
    return {k: build(v) if isinstance(v, Call) else v for k, v in c.args}


def _run_optax(m: Match, ours: optim.Optimizer, w0, grad, steps):
    optax = library("optax")
    jnp = importlib.import_module("jax.numpy")
    if m.per_step is not None:  # hyperparameters as state, changed before each step
        tx = optax.inject_hyperparams(_resolve(m.call.target))(**_plain(m.call))
    else:
        tx = build(m.call)
    params = {k: jnp.asarray(np.array(v, dtype=np.float64)) for k, v in w0.items()}
    state = tx.init(params)
    traj = {k: np.empty((steps, *np.shape(v))) for k, v in w0.items()}
    for t in range(steps):
        grads = {k: jnp.asarray(grad(t, k, np.asarray(p))) for k, p in params.items()}
        if m.per_step is not None:
            state.hyperparams["eps"] = jnp.asarray(_PER_STEP[m.per_step](ours, t + 1))
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        for k, p in params.items():
            traj[k][t] = np.asarray(p)
    return traj


def _run_keras(m: Match, ours: optim.Optimizer, w0, grad, steps):
    keras = library("keras")
    keys = list(w0)
    variables = [keras.Variable(np.array(w0[k], dtype=np.float64), dtype="float64") for k in keys]
    kopt = build(m.call)
    kopt.build(variables)
    traj = {k: np.empty((steps, *np.shape(v))) for k, v in w0.items()}
    for t in range(steps):
        grads = [
            np.array(grad(t, k, np.asarray(v.value)), dtype=np.float64)
            for k, v in zip(keys, variables, strict=True)
        ]
        if m.per_step is not None:
            kopt.epsilon = _PER_STEP[m.per_step](ours, t + 1)
        kopt.apply(grads, variables)
        for k, v in zip(keys, variables, strict=True):
            traj[k][t] = np.asarray(v.value)
    return traj


def run_lib(
    r: Row, lib: str, w0: dict[str, np.ndarray], grad: GradFn, steps: int, **options: Any
) -> dict[str, np.ndarray]:
    """Trajectories of row ``r``'s ``lib`` spelling.

    ``options`` are PyTorch's: ``dtype_name`` (its default dtype, "float64"),
    ``state_out`` (a dict that receives its final state arrays, per key).
    """
    m = r.entry(lib)
    assert isinstance(m, Match), f"{r.id}: {lib} has no equal spelling"
    runner = {"torch": _run_torch, "optax": _run_optax, "keras": _run_keras}[lib]
    flat0, flat_grad, unflatten = _flattened(w0, grad)
    state_out = options.pop("state_out", None)
    flat_state: dict[str, np.ndarray] = {}
    if state_out is not None:
        options["state_out"] = flat_state
    traj = unflatten(runner(m, make_ours(r), flat0, flat_grad, steps, **options))
    if state_out is not None:
        state_out.update({name: unflatten({"w": a}) for name, a in flat_state.items()})
    return traj


def _flattened(w0: dict[str, np.ndarray], grad: GradFn):
    """The problem as one flat parameter ``"w"``, and the way back.

    Every rule is elementwise, so stepping the concatenation is stepping each
    array; the libraries then make one call per step instead of one per array
    (their per-call overhead dominates these small problems).
    """
    keys = list(w0)
    shapes = [np.shape(w0[k]) for k in keys]
    ends = np.cumsum([math.prod(s) for s in shapes])
    starts = ends - [math.prod(s) for s in shapes]

    def split(v: np.ndarray) -> dict[str, np.ndarray]:
        return {
            k: v[..., a:b].reshape(v.shape[:-1] + s)
            for k, a, b, s in zip(keys, starts, ends, shapes, strict=True)
        }

    def flat_grad(t: int, _key: str, w: np.ndarray) -> np.ndarray:
        parts = split(np.asarray(w))
        return np.concatenate([np.ravel(grad(t, k, parts[k])) for k in keys])

    flat0 = {"w": np.concatenate([np.ravel(np.asarray(w0[k], dtype=np.float64)) for k in keys])}
    return flat0, flat_grad, lambda traj: split(traj["w"])


def lib_lrs(r: Row, lib: str, steps: int) -> np.ndarray:
    """The learning rate of steps ``1 .. steps`` of a schedule row's ``lib`` spelling."""
    m = r.entry(lib)
    assert isinstance(m, Match), f"{r.id}: {lib} has no equal schedule"
    if lib != "torch":  # a schedule function of the 0-based count
        fn = build(m.call)
        return np.array([float(fn(t - 1)) for t in range(1, steps + 1)])
    with torch_dtype() as torch:
        w = torch.zeros(1, requires_grad=True)
        topt = _resolve(m.call.target)([w], **_plain(m.call))
        sched = build(m.scheduler, topt)
        out = []
        for _ in range(steps):
            out.append(topt.param_groups[0]["lr"])
            topt.step()  # no gradient: nothing moves, the scheduler's order is kept
            sched.step()
    return np.array(out)


# -- the error measures --------------------------------------------------------------------
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


def lr_error(ours: np.ndarray, ref: np.ndarray) -> float:
    """Largest relative difference of two learning-rate sequences (all > 0)."""
    return float(np.max(np.abs(ours - ref) / np.abs(ref)))
