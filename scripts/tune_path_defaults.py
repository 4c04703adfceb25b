"""How the default learning rates of the non-seed 2-D functions were chosen.

For each function and each of the seed's four rules: a log grid of 28
learning rates from 1e-4 to 10**0.5; a rate qualifies when the path stays
within half a unit of the view window and no step is longer than 8% of the
window's width (so the figure shows a path, not jumps); the qualifying rate
with the lowest final f is printed. ``bowl`` keeps the seed's rates and
``rastrigin``/``saddle`` keep rates chosen to show their traps.

    python scripts/tune_path_defaults.py
"""

import numpy as np

from optimlab.functions import FUNCTIONS
from optimlab.optim import create

RULES = ("sgd", "momentum", "adagrad", "adam")


def final_value(fn, spec: str) -> tuple[float, float] | None:
    p = {"x": fn.start[0], "y": fn.start[1]}
    opt = create(spec)
    longest = 0.0
    with np.errstate(all="ignore"):
        for _ in range(fn.steps):
            gx, gy = fn.grad(p["x"], p["y"])
            old = (p["x"], p["y"])
            opt.update(p, {"x": gx, "y": gy})
            longest = max(longest, float(np.hypot(p["x"] - old[0], p["y"] - old[1])))
            inside = (fn.xlim[0] - 0.5 <= p["x"] <= fn.xlim[1] + 0.5) and (
                fn.ylim[0] - 0.5 <= p["y"] <= fn.ylim[1] + 0.5
            )
            if not inside:
                return None
    if longest > 0.08 * (fn.xlim[1] - fn.xlim[0]):
        return None
    return float(fn.f(p["x"], p["y"])), longest


def main() -> None:
    for name in ("rosenbrock", "beale", "himmelblau"):
        fn = FUNCTIONS[name]
        picks = []
        for rule in RULES:
            scored = []
            for lr in np.logspace(-4, 0.5, 28):
                spec = f"{rule}:lr={lr:.2g}"
                r = final_value(fn, spec)
                if r is not None:
                    scored.append((r[0], spec))
            picks.append(min(scored)[1] if scored else f"{rule}: none qualifies")
        print(f"{name:11s} {fn.steps} steps: {', '.join(picks)}")


if __name__ == "__main__":
    main()
