"""Create rules by name: ``create("adam:lr=0.3,beta1=0.95")``.

A spec is ``name`` or ``name:key=value,key=value``. Names are case-insensitive.
Each value is parsed by its hyperparameter's declared check (booleans as
``true``/``false``, numbers including ``inf`` where valid, words such as
``eps_form=paper``). Errors are ``ValueError`` naming what was wrong and what
is valid. Rules are added by the :func:`register` class decorator, in the
order they are defined (:mod:`optimlab.optim.rules`: increasing complexity).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # only for annotations: base imports nothing from here
    from .base import Optimizer

__all__ = ["create", "names", "parse_spec", "register", "spec_of"]

_REGISTRY: dict[str, type[Optimizer]] = {}

R = TypeVar("R", bound="type[Optimizer]")


def register(cls: R) -> R:
    """Class decorator: add an :class:`Optimizer` subclass under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name to register under")
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    """Registered rule names, in order of increasing complexity."""
    return list(_REGISTRY)


def _rule(name: str) -> type[Optimizer]:
    if name not in _REGISTRY:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(names())}")
    return _REGISTRY[name]


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split ``"name:key=value,..."`` into the rule name and its keyword arguments."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(
            f"optimizer spec must be 'name[:key=value,...]', got {spec!r}; "
            f"valid names: {', '.join(names())}"
        )
    name, _, rest = spec.strip().partition(":")
    name = name.strip().lower()
    hypers = _rule(name)._hypers
    kwargs: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key or not value.strip():
            raise ValueError(
                f"malformed option {item!r} in optimizer spec {spec!r}; expected key=value"
            )
        if key not in hypers:
            raise ValueError(
                f"unknown option {key!r} for optimizer {name!r}; valid options: {', '.join(hypers)}"
            )
        if key in kwargs:
            raise ValueError(f"option {key!r} given twice in optimizer spec {spec!r}")
        kwargs[key] = hypers[key][1].check.parse(key, value)
    return name, kwargs


def create(spec: str, **overrides: Any) -> Optimizer:
    """Build a rule from a spec string; ``overrides`` (e.g. ``schedule=``) win over the spec."""
    name, kwargs = parse_spec(spec)
    cls = _rule(name)
    valid = [*cls._hypers, "schedule"]
    for key in overrides:
        if key not in valid:
            raise ValueError(
                f"unknown option {key!r} for optimizer {name!r}; valid options: {', '.join(valid)}"
            )
    kwargs.update(overrides)
    return cls(**kwargs)


def spec_of(opt: Optimizer) -> str:
    """The spec string that :func:`create` turns back into a rule with equal hyperparameters.

    A ``schedule`` is a callable, not a hyperparameter: it is not part of the spec
    (pass it to :func:`create` as ``schedule=``). Options declared ``quiet`` are
    left out while at their default.
    """
    parts = []
    for key, value in opt.hyperparameters().items():
        default, h = opt._hypers[key]
        if h.quiet and value == default:
            continue
        parts.append(f"{key}={str(value).lower() if isinstance(value, bool) else value}")
    return f"{opt.name}:{','.join(parts)}" if parts else opt.name
