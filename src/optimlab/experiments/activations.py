"""Activation histograms (the book's ``weight_init_activation_histogram.py``).

``samples`` standard-normal inputs of ``units`` values go through ``layers``
fully connected layers (no bias) of ``units`` units, ``a = x W``, ``z = h(a)``,
for each weight scale (std 1, std 0.01, Xavier ``sqrt(1/n)``, He ``sqrt(2/n)``)
and each activation ``h`` (sigmoid, tanh, ReLU). Every setting uses the same
inputs and the same standard-normal draws for each layer's weights, scaled
(common random numbers), so settings differ only by what they name.

Histograms have the book's 30 bins over (0, 1) (over (-1, 1) for tanh, whose
values are symmetric about 0); values outside are counted in ``outside``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..nn import Relu, Sigmoid

__all__ = [
    "ACTIVATIONS",
    "SCALES",
    "ActivationsResult",
    "LayerHistogram",
    "run_activations",
]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return Sigmoid().forward(a)


def _relu(a: np.ndarray) -> np.ndarray:
    return Relu().forward(a)


#: activation name -> (function, histogram range)
ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], tuple[float, float]]] = {
    "sigmoid": (_sigmoid, (0.0, 1.0)),
    "tanh": (np.tanh, (-1.0, 1.0)),
    "relu": (_relu, (0.0, 1.0)),
}
#: weight-scale name -> std as a function of the fan-in n
SCALES: dict[str, Callable[[int], float]] = {
    "std=1": lambda n: 1.0,
    "std=0.01": lambda n: 0.01,
    "Xavier": lambda n: math.sqrt(1.0 / n),
    "He": lambda n: math.sqrt(2.0 / n),
}
BINS = 30


@dataclass
class LayerHistogram:
    """One layer's activations under one setting: counts over ``edges``, and moments."""

    activation: str
    scale: str
    layer: int  # 1-based
    edges: np.ndarray
    counts: np.ndarray
    outside: int
    mean: float
    std: float

    @property
    def size(self) -> int:
        """Values histogrammed (inside the range or not)."""
        return int(self.counts.sum()) + self.outside


@dataclass
class ActivationsResult:
    """Histograms of every (activation, scale) setting and layer (drawn as a grid by
    :func:`optimlab.plots_chapter6.activations_figure`)."""

    histograms: list[LayerHistogram]
    activations: tuple[str, ...]
    scales: tuple[str, ...]
    layers: int
    units: int
    samples: int
    seed: int
    settings: dict[str, Any] = field(default_factory=dict)

    def get(self, activation: str, scale: str, layer: int) -> LayerHistogram:
        """The histogram of ``layer`` (1-based) under ``activation`` and ``scale``."""
        for h in self.histograms:
            if (h.activation, h.scale, h.layer) == (activation, scale, layer):
                return h
        raise KeyError(f"no histogram for {activation}, {scale}, layer {layer}")

    def summary(self) -> dict[str, Any]:
        """JSON-ready: settings, and per setting the std of each layer's activations."""
        return {
            "experiment": "activations",
            "samples": self.samples,
            "units": self.units,
            "layers": self.layers,
            "seed": self.seed,
            "std_by_layer": {
                f"{a}, {s}": [self.get(a, s, k).std for k in range(1, self.layers + 1)]
                for a in self.activations
                for s in self.scales
            },
        }

    def csv_rows(self) -> list[list[Any]]:
        """``activation, scale, layer, bin_lo, bin_hi, count`` (``outside`` as a row with
        empty bin edges)."""
        rows: list[list[Any]] = [["activation", "scale", "layer", "bin_lo", "bin_hi", "count"]]
        for h in self.histograms:
            for lo, hi, c in zip(h.edges[:-1], h.edges[1:], h.counts, strict=True):
                rows.append([h.activation, h.scale, h.layer, repr(float(lo)), repr(float(hi)), c])
            rows.append([h.activation, h.scale, h.layer, "", "", h.outside])
        return rows

    def __repr__(self) -> str:
        lines = [
            f"ActivationsResult: {self.samples} inputs through {self.layers} layers of "
            f"{self.units} units (seed {self.seed}); std of each layer's activations:"
        ]
        for a in self.activations:
            for s in self.scales:
                stds = " ".join(f"{self.get(a, s, k).std:7.3g}" for k in range(1, self.layers + 1))
                lines.append(f"  {a:<7} {s:<8} {stds}")
        return "\n".join(lines)


def run_activations(
    *,
    activations: Sequence[str] = tuple(ACTIVATIONS),
    scales: Sequence[str] = tuple(SCALES),
    layers: int = 5,
    units: int = 100,
    samples: int = 1000,
    seed: int = 0,
) -> ActivationsResult:
    """Histograms of each layer's activations for every activation x weight scale."""
    for name, v in (("layers", layers), ("units", units), ("samples", samples)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    for kind, given, valid in (("activation", activations, ACTIVATIONS), ("scale", scales, SCALES)):
        bad = [g for g in given if g not in valid]
        if bad or not given:
            raise ValueError(f"unknown {kind} {bad or given!r}; valid: {', '.join(valid)}")
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((samples, units))
    draws = [rng.standard_normal((units, units)) for _ in range(layers)]
    hists = []
    for a in activations:
        h, (lo, hi) = ACTIVATIONS[a]
        for s in scales:
            x = x0
            for k in range(layers):
                x = h(x @ (draws[k] * SCALES[s](units)))
                counts, edges = np.histogram(x, BINS, range=(lo, hi))
                hists.append(
                    LayerHistogram(
                        a,
                        s,
                        k + 1,
                        edges,
                        counts,
                        int(x.size - counts.sum()),
                        float(x.mean()),
                        float(x.std()),
                    )
                )
    return ActivationsResult(hists, tuple(activations), tuple(scales), layers, units, samples, seed)
