"""Backgrounds as users write them: a kind, a sound file, or a mapping, turned into a validated `BedSpec`.

`parse_background(value, base_dir=…)` accepts None or "none"; a kind ("drone", "pink-noise", …); a
sound file path (relative paths resolve against `base_dir`; a bare name not found there is looked up
among the bundled sounds); or a mapping such as `{kind: binaural, carrier_hz: 180, beat_hz: 6}`.
Light to import: no numpy. Decoding a file to check that it is audio happens only when asked.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import AttuneError, AudioError, SettingsError
from ..library import SOUNDS_DIR, bundled_sound, bundled_sounds
from ..settings import TrackSettings

BED_KINDS = ("none", "drone", "binaural", "pink-noise", "brown-noise", "white-noise")

_RANGES = {
    "gain_db": (-60.0, 0.0),
    "root_hz": (40.0, 1000.0),
    "carrier_hz": (40.0, 1500.0),
    "beat_hz": (0.5, 40.0),
}
#: The mapping keys each kind accepts (besides `kind`/`file`).
_KIND_SETTINGS = {
    "drone": ("gain_db", "root_hz", "seed"),
    "binaural": ("gain_db", "carrier_hz", "beat_hz"),
    "pink-noise": ("gain_db", "seed"),
    "brown-noise": ("gain_db", "seed"),
    "white-noise": ("gain_db", "seed"),
    "file": ("gain_db",),
}
_MAPPING_KEYS = ("kind", "file", "gain_db", "root_hz", "carrier_hz", "beat_hz", "seed")


@dataclass(frozen=True)
class BedSpec:
    """A validated background bed: a synthesised kind (see BED_KINDS) or "file" with `path`."""

    kind: str
    gain_db: float = -22.0  # the bed's level relative to the voice (the mixer applies it)
    root_hz: float = 110.0  # drone
    carrier_hz: float = 200.0  # binaural: left ear
    beat_hz: float = 6.0  # binaural: right ear = carrier_hz + beat_hz
    path: Path | None = None  # file beds
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind == "none":
            raise SettingsError("background kind 'none' is not a bed", "parse_background returns None for no bed")
        if self.kind not in _KIND_SETTINGS:
            raise SettingsError(f"unknown background kind {self.kind!r}", _kinds_hint(self.kind))
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SettingsError(f"background {name} must be a number, not {value!r}")
            if not (math.isfinite(value) and low <= value <= high):
                raise SettingsError(f"background {name} {value:g} is out of range", f"use {low:g} to {high:g}")
            object.__setattr__(self, name, float(value))  # 180 and 180.0 make equal specs
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SettingsError(f"background seed must be a whole number >= 0, not {self.seed!r}")
        if self.kind == "file" and self.path is None:
            raise SettingsError("a file background needs a path")
        if self.path is not None and not isinstance(self.path, Path):
            object.__setattr__(self, "path", Path(self.path))
        if self.kind != "file" and self.path is not None:
            raise SettingsError(f"a {self.kind} background takes no path")


def parse_background(value: Any, *, base_dir: Path, path: str | None = None, line: int | None = None, verify: bool = True) -> BedSpec | None:
    """Turn a `background` value into a BedSpec (or None for no bed).

    Accepts None or "none"; a kind ("drone", "pink-noise", …); a sound file path (relative paths
    resolve against `base_dir`, and a bare file name not found there is looked up among the bundled sounds);
    or a mapping such as `{kind: binaural, carrier_hz: 180, beat_hz: 6, gain_db: -24}` or
    `{file: rain.ogg, gain_db: -20}`. Errors carry `path`/`line` (messages read `script.yaml:7: …`):
    SettingsError for bad kinds, keys, types and ranges; AudioError for a file that is missing or
    that ffmpeg cannot decode. With `verify=False` a file is only looked up, not decoded (no numpy).
    """
    try:
        return _parse(value, Path(base_dir), verify)
    except AttuneError as exc:
        if exc.path is not None:
            raise
        raise type(exc)(exc.message, exc.hint, path=path, line=line) from None


def _parse(value: Any, base_dir: Path, verify: bool) -> BedSpec | None:
    if value is None:
        return None
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        text = value.strip()
        kind = text.lower()
        if kind == "none":
            return None
        if kind in _KIND_SETTINGS and kind != "file":
            return BedSpec(kind=kind)
        found = _find_file(text, base_dir, verify)
        if found is not None:
            return BedSpec(kind="file", path=found)
        if _looks_like_path(text):
            raise _missing_file(text, base_dir)
        raise SettingsError(f"unknown background {text!r}", _kinds_hint(text))
    if isinstance(value, Mapping):
        return _parse_mapping(value, base_dir, verify)
    raise SettingsError(
        f"background must be a kind, a sound file or a mapping, not {value!r}",
        "write e.g. `background: drone`, `background: rain.ogg` or `background: {kind: drone, gain_db: -24}`",
    )


def _parse_mapping(value: Mapping, base_dir: Path, verify: bool) -> BedSpec | None:
    for key in value:
        if key not in _MAPPING_KEYS:
            suggestion = _closest(str(key), _MAPPING_KEYS)
            settings = ", ".join(_MAPPING_KEYS)
            hint = f"did you mean {suggestion!r}? Settings: {settings}" if suggestion else f"settings: {settings}"
            raise SettingsError(f"unknown background setting {key!r}", hint)
    for key in ("kind", "file"):
        if key in value and not isinstance(value[key], (str, Path)):
            raise SettingsError(f"background {key} must be text, not {value[key]!r}")
    kind = str(value["kind"]).strip().lower() if "kind" in value else None
    if "file" in value:
        if kind not in (None, "file"):
            raise SettingsError(f"background settings have both kind {kind!r} and a file", "keep one of them")
        kind = "file"
    if kind is None:
        raise SettingsError("background settings need a kind or a file", "e.g. {kind: drone, gain_db: -24} or {file: rain.ogg}")
    if kind == "none":
        return None
    if kind not in _KIND_SETTINGS:
        raise SettingsError(f"unknown background kind {kind!r}", _kinds_hint(kind))
    if kind == "file" and "file" not in value:
        raise SettingsError("background kind 'file' needs a file", "write {file: rain.ogg}")
    allowed = _KIND_SETTINGS[kind]
    numbers: dict[str, Any] = {}
    for key, item in value.items():
        if key in ("kind", "file"):
            continue
        if key not in allowed:
            raise SettingsError(f"background setting {key!r} does not apply to {kind}", f"{kind} takes: {', '.join(allowed)}")
        if key == "seed":
            if isinstance(item, bool) or not isinstance(item, int):
                raise SettingsError(f"background seed must be a whole number, not {item!r}")
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            raise SettingsError(f"background {key} must be a number, not {item!r}")
        numbers[key] = item
    if kind == "file":
        text = str(value["file"]).strip()
        found = _find_file(text, base_dir, verify)
        if found is None:
            raise _missing_file(text, base_dir)
        return BedSpec(kind="file", path=found, **numbers)
    return BedSpec(kind=kind, **numbers)


def _find_file(text: str, base_dir: Path, verify: bool = True) -> Path | None:
    """The existing sound file `text` names (checked by decoding its first second when `verify`); None if absent."""
    if not text:
        return None
    given = Path(text).expanduser()
    candidate = given if given.is_absolute() else base_dir / given
    found = candidate.resolve() if candidate.is_file() else (None if given.is_absolute() else bundled_sound(text))
    if found is not None and verify:
        from .sound_file import decode_sound  # numpy and pydub: only when a file is checked

        decode_sound(found, max_s=1.0, name=text)  # raises AudioError when it is not audio
    return found


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or Path(text).suffix != ""


def _missing_file(text: str, base_dir: Path) -> AudioError:
    where = f"looked in {base_dir}"
    if len(Path(text).parts) == 1:
        where += f" and {SOUNDS_DIR}"
        suggestions = suggest_sounds(text)
        if suggestions:
            where += f"; did you mean {' or '.join(repr(s) for s in suggestions)}?"
    return AudioError(f"background file {text!r} not found", where)


def _closest(word: str, options: tuple[str, ...] | list[str]) -> str | None:
    """The option `word` most likely meant: one it begins (`pink` → `pink-noise`), else the closest spelling."""
    word = word.strip().lower()
    prefixed = [option for option in options if word and option.startswith(word)]
    if len(prefixed) == 1:
        return prefixed[0]
    matches = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return matches[0] if matches else None


#: What people ask for, by meaning → the bed or bundled sound that sounds like it.
_MEANINGS = {
    "soft-rain.ogg": ("rain", "rainfall", "raindrops", "drizzle", "shower", "storm", "water", "wet", "patter"),
    "brown-noise": ("ocean", "sea", "surf", "waves", "wave", "waterfall", "river", "wind", "rumble", "brown"),
    "pink-noise": ("noise", "hiss", "static", "fan", "pink", "shush"),
    "drone": ("hum", "om", "tanpura", "tone", "pad", "ambient", "music", "shruti"),
    "binaural": ("binaural-beats", "beats", "theta", "alpha", "delta", "brainwave", "brainwaves"),
}


def _by_meaning(word: str) -> list[str]:
    """The beds and bundled sounds `word` means (`rain` → soft-rain.ogg, `ocean` → brown-noise)."""
    words = "".join(c if c.isalnum() else " " for c in Path(word).stem.lower()).split()
    meanings = {name: set(means) | set(Path(name).stem.split("-")) for name, means in _MEANINGS.items()}
    for name in bundled_sounds():
        meanings.setdefault(name, set(Path(name).stem.split("-")))

    def means(name: str) -> bool:  # a word of it, or a close spelling of one (`rian` → rain)
        return any(w in meanings[name] or difflib.get_close_matches(w, list(meanings[name]), n=1, cutoff=0.75) for w in words)

    return [name for name in meanings if (name in BED_KINDS or name in bundled_sounds()) and means(name)]


def suggest_sounds(word: str) -> list[str]:
    """Beds and bundled sounds `word` may mean: by meaning first, then by spelling."""
    found = _by_meaning(word)
    spelt = _closest(Path(word).name, list(BED_KINDS) + bundled_sounds())
    if spelt and spelt not in found and spelt != "none":
        found.append(spelt)
    return found


def _kinds_hint(word: str) -> str:
    suggestions = suggest_sounds(word)
    suggestion = " or ".join(repr(s) for s in suggestions) if suggestions else None
    kinds = ", ".join(BED_KINDS)
    listing = f"use one of: {kinds}, or a sound file path"
    return f"did you mean {suggestion}? Otherwise {listing}" if suggestion else listing


def bed_spec(settings: TrackSettings) -> BedSpec | None:
    """The bed `settings` ask for (None: none), at their `background_db` when set."""
    background = settings.background
    if background is None:
        return None
    spec = parse_background(background.value, base_dir=background.base_dir, path=background.path, line=background.line)
    if spec is not None and settings.background_db is not None:
        spec = replace(spec, gain_db=settings.background_db)
    return spec


def bed_key(spec: BedSpec) -> str:
    """How plan events name a bed: `drone -22 dB`, `rain.ogg -20 dB`, `binaural 200/6 Hz -24 dB`."""
    if spec.kind == "file" and spec.path is not None:
        name = spec.path.name
    elif spec.kind == "binaural":
        name = f"binaural {spec.carrier_hz:g}/{spec.beat_hz:g} Hz"
    elif spec.kind == "drone":
        name = "drone" if spec.root_hz == 110.0 else f"drone {spec.root_hz:g} Hz"
    else:
        name = spec.kind
    if spec.kind != "file" and spec.seed:
        name += f" seed {spec.seed}"
    return f"{name} {spec.gain_db:g} dB"
