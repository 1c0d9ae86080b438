"""The `attune` group: every failure becomes one `Error: …` line on stderr and an exit code.

Exit codes: 0 success, 1 bad input (AttuneError), 2 bad usage, 70 a bug in Attune, 130 interrupted.
"""

from __future__ import annotations

import signal
import sys
import traceback

import click

from ..errors import INTERRUPTED, AttuneError, Interrupted

EXIT_BUG = 70
EXIT_INTERRUPTED = 130


def _fail(message: str, code: int, warnings: tuple[str, ...] = ()) -> None:
    """`Error: …` on stderr, one line per problem (a script with several errors lists each), then the
    file's `Warning: …` lines (so a teacher sees both in one run), and exit."""
    for line in message.split("\n"):
        click.echo(f"Error: {line}", err=True)
    for line in warnings:
        click.echo(f"Warning: {line}", err=True)
    sys.exit(code)


class _Unexpected(Exception):
    """Carries an exception past click that click would misreport."""

    def __init__(self, original: BaseException):
        super().__init__(str(original))
        self.original = original


class AttuneGroup(click.Group):
    """Turns every failure into one `Error: …` line and an exit code (traceback only with --debug)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in args
        try:
            code = super().main(args=args, prog_name=prog_name or "attune", complete_var=complete_var, standalone_mode=False, **extra)
        except (click.exceptions.Abort, KeyboardInterrupt, Interrupted) as exc:
            from ..system.atomic import remove_temporaries

            remove_temporaries()
            # A batch says what it published before it stopped; anything else says the usual.
            _fail(str(exc) if isinstance(exc, Interrupted) and str(exc) != INTERRUPTED else INTERRUPTED, EXIT_INTERRUPTED)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "attune"
            _fail(f"{exc.format_message().rstrip('.')} — see `{command} --help`", 2)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except AttuneError as exc:
            if debug:
                traceback.print_exc()
            _fail(str(exc), exc.exit_code, exc.warnings)
        except Exception as exc:
            if debug:
                traceback.print_exc()
            bug: BaseException = exc.original if isinstance(exc, _Unexpected) else exc
            _fail(
                f"internal error ({type(bug).__name__}: {bug}) — this is a bug in Attune; please report it with the output of the same command run with --debug",
                EXIT_BUG,
            )
        sys.exit(code or 0)

    def invoke(self, ctx):
        # Caught here, before click's own handler (which prints a blank line) sees it.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted(INTERRUPTED) from None
        except EOFError as exc:
            # click would report this as "Aborted!" (to click it means end of input at a prompt,
            # and Attune never prompts): it is a bug, and is reported as one.
            raise _Unexpected(exc) from exc


@click.group(name="attune", cls=AttuneGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show the full traceback of any error.")
@click.version_option(package_name="attune", prog_name="attune")
def cli(debug: bool) -> None:
    """Attune turns meditation scripts into finished practice tracks, offline.

    \b
    Example:
      attune render arriving --length 10m --background drone
    """


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main() -> None:
    """The console script: SIGTERM stops a run the way Ctrl-C does. Ctrl-C is handled even when the
    shell started Attune with SIGINT ignored (as it does for background jobs and under nohup)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    cli.main(prog_name="attune")
