"""Create rules by name: ``create("adam:lr=0.3,beta1=0.95")``.

A spec is ``name`` or ``name:key=value,key=value``. Names are case-insensitive;
values are parsed as booleans (``true``/``false``), integers, floats or, for
string-valued options such as ``eps_form``, kept as text. Errors are
``ValueError`` naming what was wrong and what is valid.
"""

from __future__ import annotations

import inspect
from typing import Any

from . import rules
from .base import Optimizer

__all__ = ["create", "names", "parse_spec", "register", "spec_of"]

_REGISTRY: dict[str, type[Optimizer]] = {}


def register(cls: type[Optimizer]) -> type[Optimizer]:
    """Add an :class:`Optimizer` subclass under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name to register under")
    _REGISTRY[cls.name] = cls
    return cls


for _cls in (
    rules.SGD,
    rules.Momentum,
    rules.Nesterov,
    rules.AdaGrad,
    rules.RMSprop,
    rules.Adam,
    rules.AdamW,
    rules.NAdam,
    rules.AMSGrad,
    rules.Adamax,
    rules.Adadelta,
    rules.Lion,
):
    register(_cls)


def names() -> list[str]:
    """Registered rule names, in order of increasing complexity."""
    return list(_REGISTRY)


def _options(cls: type[Optimizer]) -> dict[str, inspect.Parameter]:
    sig = inspect.signature(cls.__init__)
    return {k: p for k, p in sig.parameters.items() if k not in ("self", "schedule")}


def _parse_value(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    try:
        return int(low)
    except ValueError:
        pass
    try:
        return float(low)
    except ValueError:
        return text.strip()


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split ``"name:key=value,..."`` into the rule name and its keyword arguments."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(
            f"optimizer spec must be 'name[:key=value,...]', got {spec!r}; "
            f"valid names: {', '.join(names())}"
        )
    name, _, rest = spec.strip().partition(":")
    name = name.strip().lower()
    if name not in _REGISTRY:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(names())}")
    cls = _REGISTRY[name]
    opts = _options(cls)
    kwargs: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key or not value.strip():
            raise ValueError(
                f"malformed option {item!r} in optimizer spec {spec!r}; expected key=value"
            )
        if key not in opts:
            raise ValueError(
                f"unknown option {key!r} for optimizer {name!r}; valid options: {', '.join(opts)}"
            )
        if key in kwargs:
            raise ValueError(f"option {key!r} given twice in optimizer spec {spec!r}")
        parsed = _parse_value(value)
        default = opts[key].default
        if isinstance(default, bool) and not isinstance(parsed, bool):
            raise ValueError(f"option {key!r} of {name!r} must be true or false, got {value!r}")
        if isinstance(default, int | float) and not isinstance(default, bool):
            if isinstance(parsed, bool) or not isinstance(parsed, int | float):
                raise ValueError(f"option {key!r} of {name!r} must be a number, got {value!r}")
            parsed = float(parsed)
        kwargs[key] = parsed
    return name, kwargs


def create(spec: str, **overrides: Any) -> Optimizer:
    """Build a rule from a spec string; ``overrides`` (e.g. ``schedule=``) win over the spec."""
    name, kwargs = parse_spec(spec)
    valid = [*_options(_REGISTRY[name]), "schedule"]
    for key in overrides:
        if key not in valid:
            raise ValueError(
                f"unknown option {key!r} for optimizer {name!r}; valid options: {', '.join(valid)}"
            )
    kwargs.update(overrides)
    return _REGISTRY[name](**kwargs)


def spec_of(opt: Optimizer) -> str:
    """The spec string that :func:`create` turns back into a rule with equal hyperparameters.

    A ``schedule`` is a callable, not a hyperparameter: it is not part of the spec
    (pass it to :func:`create` as ``schedule=``).
    """
    hp = ",".join(
        f"{k}={v}".lower() if isinstance(v, bool) else f"{k}={v}"
        for k, v in opt.hyperparameters().items()
    )
    return f"{opt.name}:{hp}" if hp else opt.name
