"""create(), parse_spec(), spec_of() and hyperparameter validation (ValueErrors that say why)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from optimlab import optim


def test_create_parses_names_and_values():
    opt = optim.create("ADAM: lr=0.3 , beta1=0.95,amsgrad=true,eps_form=paper")
    assert type(opt) is optim.Adam
    assert (opt.lr, opt.beta1, opt.amsgrad, opt.eps_form) == (0.3, 0.95, True, "paper")
    assert optim.create("rmsprop:centered=false").centered is False
    assert optim.create("adagrad:lr=1").lr == 1.0 and isinstance(optim.create("sgd:lr=1").lr, float)


def test_create_overrides_win_and_take_a_schedule():
    sched = optim.ExponentialDecay(0.5)
    opt = optim.create("sgd:lr=0.3", lr=0.1, schedule=sched)
    assert opt.lr == 0.1 and opt.schedule is sched
    assert opt.current_lr(3) == pytest.approx(0.025)


@pytest.mark.parametrize("name", optim.names())
def test_defaults_and_spec_of_round_trip(name):
    opt = optim.create(name)
    assert opt.name == name
    again = optim.create(optim.spec_of(opt))
    assert again.hyperparameters() == opt.hyperparameters()
    assert repr(opt).startswith(type(opt).__name__ + "(lr=")


def test_book_defaults():
    assert optim.SGD().lr == 0.01
    assert (optim.Momentum().lr, optim.Momentum().momentum) == (0.01, 0.9)
    assert (optim.Nesterov().lr, optim.Nesterov().momentum) == (0.01, 0.9)
    assert (optim.AdaGrad().lr, optim.AdaGrad().eps) == (0.01, 1e-7)
    assert (optim.RMSprop().lr, optim.RMSprop().decay_rate, optim.RMSprop().eps) == (
        0.01,
        0.99,
        1e-7,
    )
    a = optim.Adam()
    assert (a.lr, a.beta1, a.beta2, a.eps, a.eps_form) == (0.001, 0.9, 0.999, 1e-7, "book")


# (spec, the parameter the message must name, the value it must show)
BAD_SPECS = [
    ("sgd:lr=0", "lr", "0"),
    ("adam:lr=-0.1", "lr", "-0.1"),
    ("adam:lr=inf", "lr", "inf"),
    ("adam:lr=nan", "lr", "nan"),
    ("adam:beta1=1", "beta1", "1"),
    ("adam:beta1=-0.1", "beta1", "-0.1"),
    ("adam:beta2=1.5", "beta2", "1.5"),
    ("nadam:beta2=1.0", "beta2", "1.0"),
    ("adamax:beta1=1.0", "beta1", "1.0"),
    ("lion:beta2=1.0", "beta2", "1.0"),
    ("momentum:momentum=1.0", "momentum", "1.0"),
    ("nesterov:momentum=-0.5", "momentum", "-0.5"),
    ("rmsprop:decay_rate=1.0", "decay_rate", "1.0"),
    ("adadelta:rho=1.0", "rho", "1.0"),
    ("adam:eps=-1e-8", "eps", "-1e-08"),
    ("adagrad:eps=-1", "eps", "-1"),
    ("adadelta:eps=-1e-6", "eps", "-1e-06"),
    ("adagrad:initial_accumulator_value=-0.1", "initial_accumulator_value", "-0.1"),
    ("adamw:weight_decay=-0.01", "weight_decay", "-0.01"),
    ("nadam:momentum_decay=-1", "momentum_decay", "-1"),
    ("adam:eps_form=keras", "eps_form", "keras"),
    # unparsable values
    ("adam:lr=abc", "lr", "abc"),
    ("adam:lr=0.1.2", "lr", "0.1.2"),
    ("adam:amsgrad=maybe", "amsgrad", "maybe"),
    ("rmsprop:centered=1", "centered", "1"),
    # unknown names and keys, malformed specs
    ("adamm", "adamm", "adam"),
    ("adam:beta3=0.5", "beta3", "beta1"),
    ("sgd:momentum=0.9", "momentum", "lr"),
    ("adam:lr", "lr", "key=value"),
    ("adam:lr=", "lr", "key=value"),
    ("adam:lr=0.1,lr=0.2", "lr", "twice"),
    ("", "spec", "sgd"),
]


@pytest.mark.parametrize(
    ("spec", "param", "value"), BAD_SPECS, ids=[s or "empty" for s, _, _ in BAD_SPECS]
)
def test_bad_specs_raise_value_error_naming_parameter_and_value(spec, param, value):
    with pytest.raises(ValueError) as err:
        optim.create(spec)
    msg = str(err.value)
    assert param in msg and value in msg, msg


def test_unknown_override_raises_value_error():
    with pytest.raises(ValueError, match=r"'foo'.*valid options: lr, beta1"):
        optim.create("adam", foo=1)


@pytest.mark.parametrize("name", optim.names())
@pytest.mark.parametrize("lr", [0.0, -1.0, float("nan"), float("inf"), "0.1", True, None])
def test_every_rule_rejects_a_bad_lr(name, lr):
    cls = type(optim.create(name))
    with pytest.raises(ValueError, match=re.escape("lr must be")):
        cls(lr=lr)


@pytest.mark.parametrize("name", optim.names())
def test_schedule_must_be_callable(name):
    with pytest.raises(ValueError, match="schedule"):
        optim.create(name, schedule=0.5)


def test_messages_say_what_is_valid():
    with pytest.raises(ValueError, match=r"beta1 must be in \[0\.0, 1\.0\), got 1\.0"):
        optim.Adam(beta1=1.0)
    with pytest.raises(ValueError, match=r"eps must be in \[0\.0, inf\), got -1"):
        optim.Adam(eps=-1)
    with pytest.raises(ValueError, match=r"valid names: sgd, momentum"):
        optim.create("nope")


def test_register_needs_a_name():
    class Nameless(optim.Optimizer):
        pass

    with pytest.raises(ValueError, match="Nameless"):
        optim.register(Nameless)


def test_params_and_grads_must_be_dicts():
    with pytest.raises(ValueError, match="dicts"):
        optim.SGD().update([np.ones(2)], [np.ones(2)])


# -- one declaration drives constructor, repr, hyperparameters and specs -------


@pytest.mark.parametrize("name", optim.names())
def test_constructor_hyperparameters_and_spec_options_come_from_one_declaration(name):
    import inspect

    cls = type(optim.create(name))
    sig = inspect.signature(cls).parameters
    params = [p for p in sig if p != "schedule"]
    # only lr and the rule's decay rates may be passed by position, as in the book
    positional = [p for p, v in sig.items() if v.kind is v.POSITIONAL_OR_KEYWORD]
    assert positional[0] == "lr"
    assert set(positional[1:]) <= {"momentum", "decay_rate", "rho", "beta1", "beta2"}
    opt = cls()
    assert params == list(opt.hyperparameters())
    with pytest.raises(ValueError, match=f"valid options: {', '.join(params)}"):
        optim.create(f"{name}:nope=1")


@pytest.mark.parametrize("name", optim.names())
def test_every_rule_names_its_oracle_rows(name):
    doc = type(optim.create(name)).__doc__ or ""
    assert f'Verified against other libraries: tests/test_oracle.py (rows "{name}...")' in doc


def test_rules_module_has_no_hand_written_hyperparameters():
    import inspect

    from optimlab.optim import rules

    assert "def hyperparameters" not in inspect.getsource(rules)


def test_a_variant_is_a_registered_subclass_with_its_field_fixed():
    opt = optim.create("amsgrad")
    assert isinstance(opt, optim.Adam) and opt.amsgrad is True
    assert "amsgrad" not in opt.hyperparameters()
    with pytest.raises(ValueError, match="unknown option 'amsgrad'"):
        optim.create("amsgrad:amsgrad=false")
