"""`attune check`: validate a script, or a roster and every track in it, without rendering anything.

A script is checked fully (every error in the file, near-miss warnings, its background files) and
told the lengths it fits: from the lengths of its clips when the speech cache has them all, else
estimated from its words and its rate (and said to be an estimate). A roster (known by its keys) is
checked track by track: the roster itself, each track's script, its settings (voice, engine,
background, formats) and whether its length fits. Loads no numpy: the speech cache is only read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..audio.background import parse_background
from ..durations import format_duration
from ..errors import AttuneError, LengthError, VoiceError
from ..library import resolve_script
from ..plan import BELL_FRAMES, Plan, SectionSound, estimated_clip_frames, make_plan, section_sentences
from ..script import Bell, Pause, Script, Speech, count_words, load_script
from ..settings import DEFAULT_ENGINE, DEFAULT_RATE_WPM, TrackSettings
from ..speech.choice import settle_all


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Fit:
    """The plan a track would follow (or why its length cannot be made), and whether it is an estimate."""

    plan: Plan | None
    error: LengthError | None
    estimated: bool
    rate_wpm: float

    def note(self) -> str:
        return f" (an estimate from the words at {self.rate_wpm:g} wpm)" if self.estimated else ""


@dataclass
class FileCheck:
    """What checking one file found: a summary when it is good, problems and warnings (one line each)."""

    path: str
    summary: str | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: What Attune noticed and did, that is no problem (a file read as another tool's format).
    notes: list[str] = field(default_factory=list)


def fit(script: Script, settings: TrackSettings, cache_dir: Path | None, length_s: float | None) -> Fit:
    """The plan for `length_s`, from cached clips where every sentence is cached, else estimated."""
    from ..speech.engines.base import VoiceSettings
    from ..speech.keys import clip_key, clip_path, engine_root, npy_frames
    from ..system.paths import default_cache_dir

    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    sounds: list[SectionSound] = []
    frames: dict[str, int] = {}
    estimated = False
    base_rate = float(settings.rate_wpm or DEFAULT_RATE_WPM)
    for section in script.sections:
        merged = section.settings.over(settings)
        rate = float(merged.rate_wpm or DEFAULT_RATE_WPM)
        root_voice = _cached_voice(cache, merged, script.language)
        keys: dict[str, str] = {}
        take = _take_frames(script, merged, cache) if merged.recording is not None else None
        for text in section_sentences(section):
            n = None
            if take is not None:
                key, n = f"take:{merged.recording}:{text}", take[text]
            elif root_voice is not None:
                engine_id, voice_id = root_voice
                key = clip_key(engine_id, VoiceSettings(voice_id, rate, merged.pitch), text)
                n = npy_frames(clip_path(engine_root(cache, engine_id), key))
            if n is None:
                estimated = True
                key = f"estimate:{rate:g}:{text}"
                n = estimated_clip_frames(text, rate)
            keys[text] = key
            frames[key] = n
        sounds.append(SectionSound(clip_keys=keys))
    bells = (bool(settings.bells_start), bool(settings.bells_end))
    try:
        plan = make_plan(script, {}, frames, length_s, bell_frames=BELL_FRAMES, bells=bells, sounds=sounds, interval_bells_s=settings.interval_bells_s)
    except LengthError as exc:
        return Fit(None, exc, estimated, base_rate)
    return Fit(plan, None, estimated, base_rate)


def _take_frames(script: Script, settings: TrackSettings, cache: Path) -> dict[str, int]:
    """Each sentence's length as the take gives it: the cached clip's, else the aligned span's. The
    take is aligned (recognised once, then cached), so a sentence it lacks is an error here too."""
    from .speech.engines.recording import RecordingSynthesizer
    from .speech.recording.align import script_sentences

    return RecordingSynthesizer(cache).clip_frames(settings, [(s.text, s.line) for s in script_sentences(script)], script.path)


def _cached_voice(cache: Path, settings: TrackSettings, language: str | None) -> tuple[str, str] | None:
    """(engine id, voice id) for the pyttsx3 engine, from the voices the cache remembers; None when unknown."""
    if (settings.engine or DEFAULT_ENGINE) != "pyttsx3":
        return None
    from ..speech.engines.espeak import engine_description
    from ..speech.keys import VOICES_FILE, engine_root
    from ..speech.voices import VoiceInfo, resolve_voice

    engine_id = engine_description()
    try:
        listing = json.loads((engine_root(cache, engine_id) / VOICES_FILE).read_text("utf-8"))
        voices = [VoiceInfo(v["id"], v["name"], tuple(v["languages"]), v.get("gender")) for v in listing]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    spec = settings.voice or language
    base, plus, variant = (spec or "").partition("+")
    try:
        voice_id = resolve_voice(base or None, voices, language=language)
    except VoiceError:
        return None
    return engine_id, f"{voice_id}+{variant}" if plus else voice_id


def check_backgrounds(script: Script, settings: TrackSettings | None = None) -> None:
    """Every bed the script names (its own, each section's, and `settings`'s) is a bed that can be played."""
    backgrounds = [settings.background if settings is not None else None, script.settings.background]
    backgrounds += [section.settings.background for section in script.sections]
    for background in backgrounds:
        if background is not None:
            parse_background(background.value, base_dir=background.base_dir, path=background.path, line=background.line)


def check_script(path: Path, vars: Mapping[str, str] | None = None, cache_dir: Path | None = None, overrides: TrackSettings | None = None) -> FileCheck:
    """Raise the script's errors (all of them), or return its summary, notes and warnings.
    `overrides` are the command line's settings (`--interval-bells`, `--recording TAKE`: the take is
    aligned, and gives the lengths), over the script's."""
    script = load_script(resolve_script(path), vars)
    check_backgrounds(script)
    settings = overrides.over(script.settings) if overrides is not None else script.settings
    words = bells = 0
    pauses_min = 0.0
    open_ended = False
    for section in script.sections:
        for item in section.items:
            if isinstance(item, Speech):
                words += count_words(item.text) * section.repeat
            elif isinstance(item, Pause):
                pauses_min += item.min_s * section.repeat
                open_ended |= item.max_s is None
            elif isinstance(item, Bell):
                bells += section.repeat
    optional = sum(1 for s in script.sections if s.optional)
    parts = [
        _count(len(script.sections), "section") + (f" ({optional} optional)" if optional else ""),
        _count(words, "word"),
        f"pauses from {format_duration(pauses_min)}" + (", open-ended" if open_ended else ""),
    ]
    opening, closing = bool(settings.bells_start), bool(settings.bells_end)
    fitted = fit(script, settings, cache_dir, settings.length_s)
    if not fitted.plan:
        fitted = fit(script, settings, cache_dir, None)
    doubled = fitted.plan.doubled_bells if fitted.plan is not None else ()
    rung = bells + opening + closing - len(doubled)
    if rung:
        parts.append(_count(rung, "bell"))
    intervals = sum(1 for e in fitted.plan.events if e.kind == "interval_bell") if fitted.plan is not None else 0
    if intervals:
        at = "" if settings.length_s is None else f" at {format_duration(settings.length_s)}"
        parts.append(_count(intervals, "interval bell") + at)
    if fitted.plan is not None:
        parts.append(f"fits {fitted.plan.fits}{fitted.note()}")
    # The voices the render would choose (the track's, each section's own), and whether they speak the
    # script's language (`--strict`: an error); a wish the named engine cannot grant is an error here too.
    _, voice_warnings = settle_all(overrides or TrackSettings(), script)
    warnings = [str(w) for w in (*script.warnings, *voice_warnings)] + (fitted.plan.doubled_bell_warnings(script.path) if fitted.plan is not None else [])
    result = FileCheck(str(path), ", ".join(parts), warnings=warnings, notes=[str(n) for n in script.notes])
    if settings.length_s is not None:
        length = fit(script, settings, cache_dir, settings.length_s)
        if length.error is not None:
            result.problems.append(f"{length.error}{length.note()}")
            result.summary = None
    return result


def is_roster(path: Path) -> bool:
    """A YAML file whose top-level keys are a roster's (`clients:` or `practitioner:`, no `sections:`)."""
    if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
        return False
    import re

    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return False
    keys = set(re.findall(r"^([A-Za-z_]+)\s*:", text, re.MULTILINE))
    return "sections" not in keys and bool({"clients", "practitioner"} & keys)


__all__ = ["AttuneError", "FileCheck", "Fit", "check_script", "fit", "is_roster"]
