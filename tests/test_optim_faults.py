"""Bad input to the optimizers (issue 16, items 12 and 13): one-line errors, nothing changed.

Every refused call must raise ``ValueError`` with a single line naming the
key (or the schedule and step), and leave params, state and ``t`` as they were.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

from optimlab import optim

NAMES = optim.names()
#: rules with an epsilon (all but SGD, Momentum, Nesterov and Lion)
EPS_RULES = [n for n in NAMES if "eps" in optim.create(n).hyperparameters()]


def _started(name, **kw):
    """A rule that has taken one step on {"a": (3,), "b": (2,)}, and its params."""
    opt = optim.create(name, **kw)
    params = {"a": np.array([1.0, -2.0, 0.5]), "b": np.array([0.3, 0.1])}
    opt.update(params, {"a": np.array([0.1, 0.2, -0.3]), "b": np.array([0.5, -0.5])})
    return opt, params


def _snapshot(opt, params):
    return opt.state_dict(), {k: np.array(v, copy=True) for k, v in params.items()}


def _assert_unchanged(opt, params, snap):
    sd, ps = snap
    now = opt.state_dict()
    assert now["t"] == sd["t"] and now["extra"] == sd["extra"]
    for s, d in sd["state"].items():
        for k, a in (d or {}).items():
            assert np.array_equal(now["state"][s][k], a), (s, k)
    for k, a in ps.items():
        assert np.array_equal(params[k], a), k


def _one_line_error(call, *names):
    with pytest.raises(ValueError) as err:
        call()
    msg = str(err.value)
    assert "\n" not in msg, msg
    for n in names:
        assert n in msg, msg
    return msg


# -- gradients and params of the wrong kind -------------------------------------

BAD_GRADS = {
    "complex": np.array([1.0 + 2j, 0.5]),
    "object": np.array([1.0, None], dtype=object),
    "string": np.array(["0.1", "0.2"]),
    "bytes": np.array([b"a", b"b"]),
}


@pytest.mark.parametrize("kind", list(BAD_GRADS))
@pytest.mark.parametrize("name", NAMES)
def test_non_real_gradients_raise_naming_the_key_and_change_nothing(name, kind):
    opt, params = _started(name)
    snap = _snapshot(opt, params)
    grads = {"a": np.ones(3), "b": BAD_GRADS[kind]}
    _one_line_error(lambda: opt.update(params, grads), "grads['b']", "dtype")
    _assert_unchanged(opt, params, snap)


@pytest.mark.parametrize("container", [list, tuple])
def test_python_sequence_params_are_refused_with_a_clear_message(container):
    opt = optim.Adam()
    msg = _one_line_error(
        lambda: opt.update({"w": container([1.0, 2.0])}, {"w": [0.1, 0.2]}),
        "params['w']",
        container.__name__,
    )
    assert "NumPy array" in msg
    assert opt.t == 0 and not opt.m


def test_python_list_gradients_are_accepted_as_arrays():
    """Gradients are only read: a list of numbers is taken as an array (documented)."""
    p = {"w": np.zeros(2)}
    optim.SGD(lr=0.5).update(p, {"w": [1.0, -2.0]})
    np.testing.assert_array_equal(p["w"], [-0.5, 1.0])


@pytest.mark.parametrize("name", NAMES)
def test_a_read_only_0d_param_is_refused_before_anything_changes(name):
    """The 0-d read-only key comes last: the first keys, the state and t must stay."""
    frozen = np.array(2.0)
    frozen.flags.writeable = False
    params3 = {"a": np.ones(3), "b": np.ones(2), "c": frozen}
    fresh = optim.create(name)  # state not created yet: it must not be
    snap_fresh = _snapshot(fresh, params3)
    grads = {"a": np.ones(3), "b": np.ones(2), "c": 1.0}
    _one_line_error(lambda: fresh.update(params3, grads), "params['c']", "read-only")
    _assert_unchanged(fresh, params3, snap_fresh)
    assert fresh.t == 0 and all(not getattr(fresh, s) for s in fresh.state_names)


@pytest.mark.parametrize("name", NAMES)
def test_a_read_only_0d_param_with_existing_state_changes_nothing(name):
    opt = optim.create(name)
    params = {"a": np.ones(3), "c": np.array(2.0)}
    opt.update(params, {"a": np.ones(3), "c": 1.0})
    params["c"] = np.array(2.0)
    params["c"].flags.writeable = False
    snap = _snapshot(opt, params)
    _one_line_error(
        lambda: opt.update(params, {"a": np.ones(3), "c": 1.0}), "params['c']", "read-only"
    )
    _assert_unchanged(opt, params, snap)


# -- schedules that return no valid rate ---------------------------------------


class _Bad:
    """A schedule that is fine for ``good`` steps, then returns ``value``."""

    def __init__(self, value, good=1):
        self.value, self.good = value, good

    def __call__(self, t):
        return 1.0 if t <= self.good else self.value

    def __repr__(self):
        return f"Bad({self.value!r})"


@pytest.mark.parametrize("value", [math.nan, math.inf, -0.5, "fast", None])
@pytest.mark.parametrize("name", NAMES)
def test_a_schedule_returning_no_valid_rate_names_itself_and_the_step(name, value):
    opt, params = _started(name, schedule=_Bad(value))
    snap = _snapshot(opt, params)
    grads = {"a": np.ones(3), "b": np.ones(2)}
    _one_line_error(lambda: opt.update(params, grads), "Bad(", "step 2", repr(value))
    _assert_unchanged(opt, params, snap)
    # the engine's fast path refuses it too, before stepping
    with pytest.raises(ValueError, match="step 2"):
        opt.step_arrays([("a", params["a"], grads["a"]), ("b", params["b"], grads["b"])])
    _assert_unchanged(opt, params, snap)


def test_a_zero_rate_from_a_schedule_is_valid():
    opt = optim.SGD(lr=0.1, schedule=_Bad(0.0))
    p = {"w": np.ones(2)}
    for _ in range(3):
        opt.update(p, {"w": np.ones(2)})
    np.testing.assert_array_equal(p["w"], [0.9, 0.9])  # only step 1 moved it


# -- loading a state that cannot be right ----------------------------------------


def _nonneg_states(name):
    opt = optim.create(name, **({"centered": True} if name == "rmsprop" else {}))
    return [s for s in opt.state_names if opt._states[s].nonneg]


NONNEG = [(n, s) for n in NAMES for s in _nonneg_states(n)]


def test_every_second_moment_or_accumulator_is_declared_nonneg():
    assert {f"{n}.{s}" for n, s in NONNEG} == {
        "adagrad.h",
        "rmsprop.h",
        "adam.v",
        "adamw.v",
        "amsgrad.v",
        "amsgrad.v_max",
        "nadam.v",
        "adamax.u",
        "adadelta.v",
        "adadelta.u",
    }


@pytest.mark.parametrize(("name", "state"), NONNEG, ids=[f"{n}.{s}" for n, s in NONNEG])
@pytest.mark.parametrize("bad", [-1e-12, math.nan])
def test_a_negative_second_moment_in_a_loaded_state_is_refused(name, state, bad):
    opt, params = _started(name)
    sd = opt.state_dict()
    sd["state"][state]["b"][1] = bad
    snap = _snapshot(opt, params)
    _one_line_error(lambda: opt.load_state_dict(sd), f"{state}['b']", ">= 0")
    _assert_unchanged(opt, params, snap)


@pytest.mark.parametrize(
    "array",
    [np.array([1, 2], dtype=np.int64), np.array(["x", "y"]), np.array([1j, 2j]), [None, 1.0]],
    ids=["int", "string", "complex", "object"],
)
@pytest.mark.parametrize("name", [n for n in NAMES if optim.create(n).state_names])
def test_a_loaded_state_array_that_is_not_floating_point_is_refused(name, array):
    opt, params = _started(name)
    sd = opt.state_dict()
    first = opt.state_names[0]
    sd["state"][first]["b"] = array
    snap = _snapshot(opt, params)
    _one_line_error(lambda: opt.load_state_dict(sd), f"{first}['b']")
    _assert_unchanged(opt, params, snap)


def _saved(opt):
    return optim.state_to_arrays(opt.state_dict())


@pytest.mark.parametrize(
    ("meta", "says"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"name": "adam"}), "JSON object"),
        (
            json.dumps({"name": "adam", "hyperparameters": {}, "t": 1, "extra": {}, "empty": 3}),
            "'empty'",
        ),
    ],
    ids=["broken", "a-list", "missing-fields", "empty-not-a-list"],
)
def test_state_from_arrays_refuses_bad_meta_with_one_line(meta, says):
    opt, _ = _started("adam")
    arrays = _saved(opt)
    arrays["meta"] = np.array(meta)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as f:
        _one_line_error(lambda: optim.state_from_arrays(f), "meta", says)


def test_state_from_arrays_without_meta_says_so():
    _one_line_error(lambda: optim.state_from_arrays({}), "'meta'")


# -- eps = 0: a 0/0 is a zero step ---------------------------------------------


@pytest.mark.parametrize("name", EPS_RULES)
def test_eps_zero_takes_a_zero_step_on_a_zero_gradient(name):
    """eps = 0 is accepted by every rule with an eps; 0/0 (a coordinate whose
    gradient has always been 0) is a zero step, not NaN (the limit eps -> 0+).
    Elsewhere the step is the ordinary one, finite."""
    decay = ",weight_decay=0" if name == "adamw" else ""  # decay alone would move w
    opt = optim.create(f"{name}:eps=0{decay}")
    p = {"w": np.array([1.0, 1.0]), "s": 2.0}
    rng = np.random.default_rng(0)
    for _ in range(5):  # pytest turns any RuntimeWarning (0/0) into an error
        opt.update(p, {"w": np.array([0.0, rng.standard_normal()]), "s": 0.0})
    assert p["w"][0] == 1.0 and p["s"] == 2.0
    assert np.isfinite(p["w"][1])
    if name != "adadelta":  # Adadelta with eps = 0 never leaves its zero start
        assert p["w"][1] != 1.0


@pytest.mark.parametrize("name", EPS_RULES)
def test_eps_zero_equals_a_tiny_eps_where_the_gradient_is_not_zero(name):
    """Away from 0/0, eps = 0 is the ordinary formula: within 1e-9 relative of
    eps = 1e-300 (which changes sqrt(v) ~ 1e-2 by nothing representable)."""
    if name == "adadelta":
        pytest.skip("Adadelta's step is proportional to sqrt(u + eps): eps = 0 never moves")
    rng = np.random.default_rng(1)
    grads = rng.standard_normal((6, 4)) * 1e-2
    out = []
    for eps in (0.0, 1e-300):
        opt, p = optim.create(f"{name}:eps={eps}"), {"w": np.ones(4)}
        for g in grads:
            opt.update(p, {"w": g})
        out.append(p["w"])
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9)
