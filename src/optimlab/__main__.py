"""``python -m optimlab``: the same as the ``optimlab`` command."""

from optimlab.cli import main

if __name__ == "__main__":
    main(prog_name="optimlab")
