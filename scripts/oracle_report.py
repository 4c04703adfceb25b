"""Print the worst relative difference per row of the equivalents table, live.

Runs every row and library of ``optimlab.optim.equivalents.TABLE`` that has an
equal call exactly as ``tests/test_oracle.py`` does (rules: 100 steps of the
random problem of ``tests/_oracle.py``; schedules: the learning rate over 3x
the horizon) and prints a Markdown table of the worst relative difference,
the row's bound and its cause. Needs torch, jax, optax and keras.

    python scripts/oracle_report.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # for _oracle

import _oracle
from optimlab.optim.equivalents import Match

STEPS = 100


def main() -> int:
    w0, grad = _oracle.random_problem(STEPS)
    print("| row | library | worst relative difference | bound |")
    print("|---|---|---|---|")
    failed = 0
    ours: dict[str, dict] = {}
    for kind in ("rule", "schedule"):
        for row, lib in _oracle.match_cases(kind):
            m = row.entry(lib)
            assert isinstance(m, Match)
            if kind == "rule":
                if row.id not in ours:
                    ours[row.id] = _oracle.run_ours(_oracle.make_ours(row), w0, grad, STEPS)
                ref = _oracle.run_lib(row, lib, w0, grad, STEPS)
                err = _oracle.trajectory_error(ours[row.id], ref, w0)
            else:
                n = 3 * row.horizon
                err = _oracle.lr_error(_oracle.our_lrs(row, n), _oracle.lib_lrs(row, lib, n))
            failed += err > m.tol
            bound = f"{m.tol:g}" + (f" ({m.tol_cause})" if m.tol_cause else "")
            bound = bound.replace("|", "\\|")  # a Markdown cell
            flag = "" if err <= m.tol else " **FAILS**"
            print(f"| {row.id} | {lib} | {err:.1e}{flag} | {bound} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
