"""One exception family. The CLI catches `AttuneError`, prints `Error: …` on one line and exits 1."""

from __future__ import annotations


class AttuneError(Exception):
    """A problem the user can fix; `str()` is the one-line message, `hint` says how to fix it."""

    exit_code = 1
    #: The file's warnings (`FILE:LINE: … — fix`), printed beside its errors so both are seen in one run.
    warnings: tuple[str, ...] = ()

    def __init__(self, message: str, hint: str | None = None, *, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f" — {self.hint}"
        return text

    def lines(self) -> list[str]:
        """The message as the CLI prints it: one line per problem (one, unless several were collected)."""
        return str(self).split("\n")


class ScriptError(AttuneError):
    """A script (or roster) that cannot be read: bad YAML, an unknown marker, an undefined placeholder."""


#: At most this many errors of one file are listed; a last line gives the count.
MAX_LISTED_ERRORS = 20


class ScriptErrors(ScriptError):
    """Every error found in one file: each is a line `FILE:LINE: what — fix`, then a line with the count."""

    def __init__(self, errors: list[AttuneError], path: str | None):
        self.errors = sorted(errors, key=lambda e: e.line or 0)
        first = self.errors[0]
        super().__init__(first.message, first.hint, path=first.path, line=first.line)
        self.where = path

    def __str__(self) -> str:
        shown = [str(e) for e in self.errors[:MAX_LISTED_ERRORS]]
        n = len(self.errors)
        if n > 1:
            listed = f", the first {MAX_LISTED_ERRORS} listed above" if n > MAX_LISTED_ERRORS else ""
            shown.append(f"{self.where}: {n} errors in this file{listed} — fix them and run `attune check` again")
        return "\n".join(shown)


def combine(errors: list[AttuneError], path: str | None) -> AttuneError:
    """One error as it is, several as a `ScriptErrors`."""
    return errors[0] if len(errors) == 1 else ScriptErrors(errors, path)


class LengthError(AttuneError):
    """A requested length that cannot be parsed or cannot be met by the script."""


class VoiceError(AttuneError):
    """A voice, rate or pitch that the speech engine cannot provide."""


class SpeechError(AttuneError):
    """The speech engine failed, hung, or returned empty or truncated audio."""


class AudioError(AttuneError):
    """A sound file (a background bed) that is missing or cannot be decoded, or an ffmpeg failure."""


class OutputError(AttuneError):
    """An output path that cannot be written."""


class NoSpaceError(OutputError):
    """The disk (or a file-size limit) ran out while an output was being written; nothing was left half-written."""


class BusyError(OutputError):
    """Another run holds the output (a batch's folder, a render's track) until it finishes."""


class SettingsError(AttuneError):
    """A command-line or roster setting with a bad value (a background kind, a loudness target…)."""


class Interrupted(AttuneError):
    """The run was stopped by SIGINT or SIGTERM; temporary files were removed."""

    exit_code = 130
