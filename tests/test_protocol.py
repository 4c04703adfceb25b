"""The reference MNIST protocol: seeding, batches, loss timing, divergence, validation."""

import dataclasses
import math

import click
import numpy as np
import pytest
from click.testing import CliRunner

from optimlab.cli_options import IntList, make_protocol, option_name, protocol_options
from optimlab.experiments import Dataset, Protocol, batch_indices, init_params, train_reference
from optimlab.nn import MultiLayerNet
from optimlab.optim import SGD, Adam, create
from optimlab.protocol import FieldError, check_fits


def _data(seed=0, n=300, d=12, k=4):
    rng = np.random.default_rng(seed)
    return Dataset(
        rng.random((n, d), dtype=np.float32),
        rng.integers(0, k, n),
        rng.random((60, d), dtype=np.float32),
        rng.integers(0, k, 60),
    )


SMALL = Protocol(hidden=(8, 8), iterations=30, batch_size=16, eval_every=10, dtype="float64")


def test_reference_equals_a_hand_written_book_loop():
    data = _data()
    results = train_reference(["sgd:lr=0.1", "adam"], data, SMALL)
    params = init_params(SMALL, 12, 4, 2)
    next_batch = batch_indices(SMALL, 300)
    nets, opts = [], [SGD(lr=0.1), Adam()]
    for p in params:
        net = MultiLayerNet(12, [8, 8], 4, seed=0)
        for key in p:
            net.params[key][...] = p[key]
        nets.append(net)
    losses = np.zeros((2, SMALL.iterations))
    for i in range(SMALL.iterations):
        idx = next_batch()
        xb, tb = data.x_train[idx].astype(np.float64), data.t_train[idx]
        for k in range(2):
            opts[k].update(nets[k].params, nets[k].gradient(xb, tb))
            losses[k, i] = nets[k].loss(xb, tb)
    # the same operations in the same order: equal to the last bit
    np.testing.assert_array_equal(results[0].losses, losses[0])
    np.testing.assert_array_equal(results[1].losses, losses[1])
    acc = nets[1].accuracy(data.x_test.astype(np.float64), data.t_test)
    assert results[1].test_accuracy[-1] == acc


def test_same_seed_same_results_and_same_init_shared():
    data = _data()
    a = train_reference(["sgd", "momentum"], data, SMALL)
    b = train_reference(["sgd", "momentum"], data, SMALL)
    np.testing.assert_array_equal(a[1].losses, b[1].losses)
    # same_init: SGD and Momentum take the same first gradient from the same weights;
    # their first updates are -lr g and v = -lr g: equal first post-update losses
    assert a[0].losses[0] == a[1].losses[0]
    p_same = init_params(SMALL, 12, 4, 3)
    np.testing.assert_array_equal(p_same[0]["W1"], p_same[2]["W1"])
    p_diff = init_params(
        Protocol(**{**SMALL.to_dict(), "same_init": False, "hidden": (8, 8)}), 12, 4, 3
    )
    assert not np.array_equal(p_diff[0]["W1"], p_diff[1]["W1"])


def test_batches_do_not_depend_on_the_optimizers():
    nb1, nb2 = batch_indices(SMALL, 300), batch_indices(SMALL, 300)
    first = [nb1() for _ in range(5)]
    np.testing.assert_array_equal(first, [nb2() for _ in range(5)])
    assert all(len(b) == 16 and b.min() >= 0 and b.max() < 300 for b in first)


def test_pre_update_loss_is_the_gradient_forward():
    data = _data()
    post = train_reference(["sgd:lr=0.5"], data, SMALL)[0].losses
    pre = train_reference(
        ["sgd:lr=0.5"],
        data,
        Protocol(**{**SMALL.to_dict(), "hidden": (8, 8), "loss_timing": "pre"}),
    )[0].losses
    assert not np.allclose(pre, post)
    # the pre-update loss of iteration 0 is the loss of the initial weights on batch 0
    p = init_params(SMALL, 12, 4, 1)[0]
    net = MultiLayerNet(12, [8, 8], 4, seed=0)
    for key in p:
        net.params[key][...] = p[key]
    idx = batch_indices(SMALL, 300)()
    assert pre[0] == pytest.approx(
        net.loss(data.x_train[idx].astype(np.float64), data.t_train[idx]), rel=1e-12
    )


def test_a_diverging_run_stops_and_leaves_the_others_alone():
    data = _data()
    res = train_reference([create("sgd:lr=1e200"), "sgd:lr=0.1"], data, SMALL)
    assert res[0].diverged_at is not None and 1 <= res[0].diverged_at <= SMALL.iterations
    assert np.all(np.isnan(res[0].losses[res[0].diverged_at :]))
    assert res[1].diverged_at is None and np.all(np.isfinite(res[1].losses))
    alone = train_reference(["sgd:lr=0.1"], data, SMALL)[0]
    np.testing.assert_array_equal(alone.losses, res[1].losses)


def test_eval_points():
    assert SMALL.eval_points() == [10, 20, 30]
    assert Protocol(iterations=25, eval_every=10).eval_points() == [10, 20, 25]
    assert Protocol(eval_every=0).eval_points() == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"iterations": 0}, "iterations must be an integer >= 1"),
        ({"batch_size": -3}, "batch_size must be an integer >= 1"),
        ({"eval_every": -1}, "eval_every"),
        ({"dtype": "float16"}, "dtype must be"),
        ({"hidden": ()}, "hidden"),
        ({"hidden": (10, 0)}, "hidden"),
        ({"loss_timing": "during"}, "loss_timing"),
        ({"seed": -1}, "seed"),
    ],
)
def test_protocol_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Protocol(**kwargs)


def test_batch_larger_than_training_set():
    with pytest.raises(ValueError, match="batch_size 400 is larger than the training set"):
        batch_indices(Protocol(batch_size=400), 300)


def test_one_hot_labels_are_stored_as_integers_and_both_engines_agree():
    from optimlab.experiments import train

    base = _data(k=4)
    one_hot = Dataset(base.x_train, np.eye(4)[base.t_train], base.x_test, np.eye(4)[base.t_test])
    assert one_hot.n_classes == 4 and one_hot.t_train.dtype == np.int64
    np.testing.assert_array_equal(one_hot.t_train, base.t_train)
    fast = train(["adam"], one_hot, SMALL, engine="fast")[0].losses
    ref = train(["adam"], base, SMALL, engine="reference")[0].losses
    np.testing.assert_array_equal(fast, ref)  # float64: bit for bit


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (np.full((300, 4), 0.25), "one-hot"),
        (np.full(300, -1), "labels must be integers >= 0"),
        (np.zeros(300, dtype=np.float32), "labels must be integers"),
        (np.zeros(299, dtype=np.int64), "x_train has 300 samples but t_train has 299"),
    ],
)
def test_dataset_rejects_bad_labels(labels, match):
    base = _data()
    with pytest.raises(ValueError, match=match):
        Dataset(base.x_train, labels, base.x_test, base.t_test)


# -- validation: every field, one place --------------------------------------------------
#: invalid values of every Protocol field (the test below checks no field is left out)
BAD_VALUES = {
    "hidden": [(), (10, 0), (10, 2.5), "100", (True,)],
    "activation": ["tanh", "RELU", None],
    "weight_init": ["foo", 0.0, -0.1, math.inf, math.nan, None, True],
    "weight_decay": [-1.0, -1e-12, math.nan, math.inf, "0.1", None, True],
    "batch_size": [0, -3, 2.0, "8", True],
    "iterations": [0, 1.5, None],
    "dtype": ["float16", np.float32, "int64"],
    "seed": [-1, 1.0, True],
    "same_init": [1, "yes", None],
    "eval_every": [-1, 0.5],
    "loss_timing": ["during", None],
    "draws": ["numpy", "Book", None],
}


def test_every_field_has_invalid_examples():
    assert set(BAD_VALUES) == {f.name for f in dataclasses.fields(Protocol)}


@pytest.mark.parametrize(
    ("name", "value"), [(n, v) for n, values in BAD_VALUES.items() for v in values]
)
def test_each_invalid_field_is_rejected_by_name(name, value):
    with pytest.raises(FieldError) as info:
        Protocol(**{name: value})
    assert info.value.field == name
    assert str(info.value).startswith(f"{name} must be {Protocol.spec(name).valid}, got ")


def test_the_issues_example_is_rejected_before_anything_is_stored():
    with pytest.raises(ValueError, match="activation must be one of 'relu', 'sigmoid'"):
        Protocol(activation="tanh", weight_decay=-1, weight_init="foo")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hidden": [50, 50]}, "hidden"),  # a list is kept as a tuple: hashable, frozen
        ({"weight_init": "He"}, "weight_init"),
        ({"weight_init": 0.01}, "weight_init"),
        ({"weight_decay": 0}, "weight_decay"),
        ({"eval_every": 0}, "eval_every"),
        ({"same_init": np.bool_(False)}, "same_init"),
    ],
)
def test_valid_values_are_accepted(kwargs, field):
    p = Protocol(**kwargs)
    assert getattr(p, field) == (tuple(kwargs[field]) if field == "hidden" else kwargs[field])
    hash(p)


def test_check_fits_names_the_batch_size_and_the_valid_range():
    data = _data()  # 300 training samples
    check_fits(Protocol(batch_size=300), data)
    with pytest.raises(FieldError, match=r"batch_size 301 is larger .* valid: 1\.\.300") as info:
        check_fits(Protocol(batch_size=301), data)
    assert info.value.field == "batch_size"


def test_check_fits_needs_test_samples_only_to_evaluate():
    base = _data()
    no_test = Dataset(base.x_train, base.t_train, base.x_test[:0], base.t_test[:0])
    check_fits(Protocol(batch_size=16, eval_every=0), no_test)
    with pytest.raises(FieldError, match="test set is empty") as info:
        check_fits(Protocol(batch_size=16), no_test)
    assert info.value.field == "eval_every"


def test_both_training_loops_check_the_fit_first():
    with pytest.raises(FieldError, match="batch_size 400"):
        train_reference(["sgd"], _data(), Protocol(batch_size=400, iterations=1))
    from optimlab.engine import train as fast

    with pytest.raises(FieldError, match="batch_size 400"):
        fast(["sgd"], _data(), Protocol(batch_size=400, iterations=1))


def test_dataset_rejects_train_and_test_of_different_widths():
    rng = np.random.default_rng(0)
    t20, t5 = np.zeros(20, int), np.zeros(5, int)
    with pytest.raises(ValueError, match=r"x_test samples have shape 8x8 but x_train .* 28x28"):
        Dataset(rng.random((20, 28, 28)), t20, rng.random((5, 8, 8)), t5)
    # the same width in another shape is the same input: flattened, 784 = 784
    Dataset(rng.random((20, 28, 28)), t20, rng.random((5, 784)), t5)


def test_an_empty_dataset_says_so():
    with pytest.raises(ValueError, match="x_train is empty: a dataset needs at least one"):
        Dataset(np.zeros((0, 4)), np.zeros(0, int), np.zeros((3, 4)), np.zeros(3, int))


# -- the CLI options are generated from the fields ----------------------------------------
def _parse(*args):
    """What protocol_options parse from ``args``, as a Protocol (or the click result)."""

    @click.command()
    @protocol_options
    def cmd(dataset, data_dir, **options):
        click.echo(repr(make_protocol(**options)))

    return CliRunner().invoke(cmd, list(args))


def test_every_field_has_an_option_whose_default_is_the_field_default():
    res = _parse()
    assert res.exit_code == 0, res.output
    assert res.output.strip() == repr(Protocol())
    helps = CliRunner().invoke(click.command()(protocol_options(lambda **kw: None)), ["--help"])
    for f in dataclasses.fields(Protocol):
        assert option_name(f.name) in helps.output
        # help text is the field's own (click wraps lines: compare the first words)
        assert " ".join(Protocol.spec(f.name).help.split()[:3]) in " ".join(helps.output.split())


def test_options_parse_into_the_protocol():
    res = _parse(
        "--hidden=50,40",
        "--activation=sigmoid",
        "--weight-init=0.05",
        "--weight-decay=1e-4",
        "--batch-size=64",
        "--iterations=7",
        "--dtype=float64",
        "--seed=3",
        "--no-same-init",
        "--eval-every=0",
        "--loss-timing=pre",
    )
    assert res.exit_code == 0, res.output
    expected = Protocol(
        hidden=(50, 40),
        activation="sigmoid",
        weight_init=0.05,
        weight_decay=1e-4,
        batch_size=64,
        iterations=7,
        dtype="float64",
        seed=3,
        same_init=False,
        eval_every=0,
        loss_timing="pre",
    )
    assert res.output.strip() == repr(expected)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("hidden", "10,x"),
        ("activation", "tanh"),
        ("weight_init", "foo"),
        ("weight_decay", "nan"),
        ("weight_decay", "abc"),
        ("batch_size", "0"),
        ("iterations", "1.5"),
        ("dtype", "float16"),
        ("seed", "-1"),
        ("eval_every", "-2"),
        ("loss_timing", "during"),
    ],
)
def test_a_bad_option_exits_2_naming_it_and_what_is_valid(name, text):
    res = _parse(f"{option_name(name)}={text}")
    assert res.exit_code == 2
    assert f"'{option_name(name)}'" in res.output
    assert Protocol.spec(name).valid in res.output and "Traceback" not in res.output


def test_make_protocol_names_the_option():
    with pytest.raises(click.BadParameter) as info:
        make_protocol(batch_size=0)
    assert info.value.param_hint == "'--batch-size'"


def test_intlist_is_the_hidden_check_for_other_options():
    @click.command()
    @click.option("--sizes", type=IntList(), default="5,6")
    def cmd(sizes):
        click.echo(repr(sizes))

    assert CliRunner().invoke(cmd, []).output.strip() == "(5, 6)"
    assert CliRunner().invoke(cmd, ["--sizes", "1,2,3"]).output.strip() == "(1, 2, 3)"
    bad = CliRunner().invoke(cmd, ["--sizes", "4,0"])
    assert bad.exit_code == 2 and Protocol.spec("hidden").valid in bad.output
