"""The `attune` command: a thin skin over the library. Each command parses options, makes one
library call, and turns library errors into one line on stderr: `Error: FILE:LINE: what — how to fix`.

    app.py      the group, error handling and exit codes, the console script's `main`
    options.py  options shared by commands; flags → TrackSettings
    render.py   render, plan          check.py  check
    info.py     voices, doctor, library   batch.py  batch   access.py  access list/rotate/revoke
    align.py    align (a take against its script)
    write.py    new, import

Only this package imports click.
"""

import sys

try:
    from . import access, align, batch, check, info, render, write  # noqa: F401  (each registers its commands)
    from .app import cli, main
except KeyboardInterrupt:  # Ctrl-C while the command is still loading: nothing was begun; the usual line and code
    from ..errors import INTERRUPTED

    sys.stderr.write(f"Error: {INTERRUPTED}\n")
    raise SystemExit(130) from None

__all__ = ["cli", "main"]
