"""Voices: what the engine offers, and turning a user's `--voice` into one engine voice id.

`--voice` accepts an id (`gmw/en-us`), a language code (`en-us`, `es`), or a fragment of a name
(`spanish`), optionally followed by an espeak variant (`en-us+f3`, `gmw/en+m2`, `es+whisper`).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import VoiceError

#: The voice used when neither the script nor the command line names one (and no language does).
DEFAULT_VOICE = "en-us"


@dataclass(frozen=True)
class VoiceInfo:
    """One engine voice."""

    id: str
    name: str
    languages: tuple[str, ...]
    #: Only what the engine really says (espeak-ng's voices carry none).
    gender: str | None = None
    #: Piper's voices: quality (x_low…high), sample rate, speakers ("1", or "904 (p239, …)"), where it lives.
    quality: str | None = None
    sample_rate_hz: int | None = None
    speakers: str | None = None
    location: str | None = None


def _norm(text: str) -> str:
    return text.strip().lower().replace("_", "-")


def resolve_voice(spec: str | None, voices: Sequence[VoiceInfo], *, variants: Sequence[str] = (), language: str | None = None) -> str:
    """Return the engine voice id (with `+variant` when asked) that `spec` names.

    Order of matching: exact id, then the id's last part (`en-us` for `gmw/en-us`), then a
    language code, then a unique fragment of a name. `variants` lists the espeak variants
    available; an empty list means the engine has none (a `+variant` is then an error).
    """
    if spec is None or not spec.strip():
        spec = language or DEFAULT_VOICE
    base, plus, variant = spec.strip().partition("+")
    if plus:
        if not variants:
            raise VoiceError(f"voice variant '+{variant}' needs the espeak engine", "drop the +suffix on this system")
        known = {v.lower(): v for v in variants}
        if variant.lower() not in known:
            close = difflib.get_close_matches(variant, list(variants), n=3, cutoff=0.5)
            hint = f"did you mean +{close[0]}?" if close else "try +f1…+f5 (female) or +m1…+m7 (male)"
            raise VoiceError(f"unknown voice variant '+{variant}'", hint + " See `attune voices`")
        variant = known[variant.lower()]
    voice_id = _match_base(base, voices)
    return f"{voice_id}+{variant}" if plus else voice_id


def _match_base(base: str, voices: Sequence[VoiceInfo]) -> str:
    wanted = _norm(base)
    if not voices:
        raise VoiceError("the speech engine reports no voices", "run `attune doctor`")
    for v in voices:
        if _norm(v.id) == wanted:
            return v.id
    for v in voices:
        if _norm(v.id).rsplit("/", 1)[-1] == wanted:
            return v.id
    for v in voices:
        if wanted in (_norm(lang) for lang in v.languages):
            return v.id
    by_name = [v for v in voices if wanted and wanted in _norm(v.name)]
    exact = [v for v in by_name if _norm(v.name) == wanted]
    if exact:
        return exact[0].id
    if len(by_name) == 1:
        return by_name[0].id
    if len(by_name) > 1:
        names = ", ".join(f"{v.name} ({v.id})" for v in by_name[:4])
        raise VoiceError(f"voice '{base}' matches several voices: {names}", "give an id from `attune voices`")
    keys = list(dict.fromkeys([lang for v in voices for lang in v.languages] + [v.id.rsplit("/", 1)[-1] for v in voices] + [v.name for v in voices]))
    by_lower = {key.lower(): key for key in reversed(keys)}
    close = [by_lower[k] for k in difflib.get_close_matches(base.lower(), list(by_lower), n=3, cutoff=0.6)]
    hint = (f"did you mean {', '.join(close)}? " if close else "") + "Run `attune voices` to list them"
    raise VoiceError(f"unknown voice '{base}'", hint)


def filter_voices(voices: Sequence[VoiceInfo], language: str | None) -> list[VoiceInfo]:
    """The voices that speak `language` (a code prefix: `en` matches `en-us` and `en-gb`)."""
    if not language:
        return list(voices)
    wanted = _norm(language)
    return [v for v in voices if any(_norm(lang) == wanted or _norm(lang).startswith(wanted + "-") for lang in v.languages)]
