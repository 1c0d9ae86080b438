"""Checking a roster before a batch: the roster, then every track's script, settings and length.

Each problem is one line, `ROSTER:LINE: client / track: what is wrong — how to fix it` (LINE is the
track's line in the roster). Nothing is rendered and no speech is synthesised: lengths come from the
speech cache where it has every sentence, else from the words and the rate (and say so). Voices are
checked against the engine's list (remembered in the cache; otherwise the engine is asked once).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import AttuneError
from ..script import load_script
from ..settings import DEFAULT_ENGINE, TrackSettings
from ..speech.choice import engine_named, section_voice, settle_all
from .script import FileCheck, check_backgrounds, fit


class _Voices:
    """Each engine's voice list, asked for once: from the speech cache's listing, else from the engine."""

    def __init__(self, cache_dir: Path | None):
        from ..system.paths import default_cache_dir

        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._lists: dict[str, tuple[list, list[str]]] = {}

    def of(self, engine: str) -> tuple[list, list[str]]:
        if engine not in self._lists:
            self._lists[engine] = self._listing(engine)
        return self._lists[engine]

    def _listing(self, engine: str) -> tuple[list, list[str]]:
        from ..speech.voices import VoiceInfo

        if engine == "pyttsx3":
            from ..speech.engines.espeak import engine_description
            from ..speech.keys import VOICES_FILE, engine_root

            try:
                listing = json.loads((engine_root(self.cache_dir, engine_description()) / VOICES_FILE).read_text("utf-8"))
                voices = [VoiceInfo(v["id"], v["name"], tuple(v["languages"]), v.get("gender")) for v in listing]
                return voices, _ESPEAK_VARIANTS_UNKNOWN
            except (OSError, ValueError, KeyError, TypeError):
                pass
        from ..speech.engines import create_synthesizer

        synth = create_synthesizer(engine)
        try:
            return synth.voices(), synth.variants()
        finally:
            synth.close()


#: With the voice list from the cache, a +variant is taken as written (the render checks it).
_ESPEAK_VARIANTS_UNKNOWN: list[str] = []


def _resolve(voices: _Voices, settings: TrackSettings, language: str | None) -> None:
    from ..speech.voices import resolve_voice

    if (settings.engine or DEFAULT_ENGINE) == "piper":  # Piper's voices are files: found as the render finds them
        from ..speech.engines.piper_voices import resolve_piper_voice, resolve_speaker

        resolve_speaker(resolve_piper_voice(settings.voice, language), settings.speaker)
        return
    if settings.engine in ("hibari", "pico"):  # a table of voices that takes a teacher's words, as the render does
        from ..speech.engines import _packaged
        from ..speech.engines.packaged import find_table_voice, package_version

        engine_class = _packaged(settings.engine)
        if engine_class is not None and package_version(engine_class.DIST):  # else: "not installed", below
            find_table_voice(settings.engine, engine_class.table(), settings.voice, language)
            return
    listing, variants = voices.of(settings.engine or DEFAULT_ENGINE)
    spec = settings.voice
    if spec and "+" in spec and variants is _ESPEAK_VARIANTS_UNKNOWN:
        spec = spec.partition("+")[0]
    resolve_voice(spec, listing, variants=variants, language=language)


def cover_warning(path: Path) -> str | None:
    """What podcast apps would refuse in the cover at `path`, and what the batch does about it; None when it is fine."""
    from ..media.artwork import cover_problem, cover_size, fitted_side

    size = cover_size(path)
    problem = cover_problem(size)
    if problem is None:
        return None
    side = fitted_side(size)
    done = f"letterboxes it to {side}×{side} px" if size[0] != size[1] else f"scales it to {side}×{side} px"
    return (f"the cover {Path(path).name} {problem} (Apple Podcasts asks for a square image of 1400–3000 px), so the batch {done}"
            " — give a square PNG or JPEG of 3000×3000 px")  # fmt: skip


def check_roster(path: Path, cache_dir: Path | None = None, overrides: TrackSettings | None = None) -> FileCheck:
    """Every problem of the roster at `path`, one line each; a summary when there are none.
    `overrides` are the batch's command-line settings (`--engine`), over every track's."""
    from ..delivery.roster import load_roster, missing_script

    result = FileCheck(str(path))
    try:
        roster = load_roster(path)
    except AttuneError as exc:
        result.problems += exc.lines()
        return result
    if roster.cover is not None:
        try:
            warning = cover_warning(roster.cover)
        except AttuneError as exc:
            result.problems.append(f"{roster.path}:{roster.cover_line}: {exc.message} — {exc.hint}")
        else:
            if warning is not None:
                result.warnings.append(f"{roster.path}:{roster.cover_line}: {warning}")
    voices = _Voices(cache_dir)
    tracks = estimated = 0
    for client in roster.clients:
        for spec in client.tracks:
            tracks += 1
            where = f"{roster.path}:{spec.line}: {client.name} / {spec.file_stem}: "
            missing = missing_script(roster, spec)
            if missing is not None:
                result.problems.append(f"{where}{missing.message} — {missing.hint}")
                continue
            try:
                script = load_script(spec.script, spec.settings.vars)
            except AttuneError as exc:
                result.problems += [where + line for line in exc.lines()]
                continue
            result.warnings += [where + str(w) for w in script.warnings]
            track_settings = overrides.over(spec.settings) if overrides is not None else spec.settings
            try:
                # The voices as the render chooses them (`choice.settle_all`): the same warnings as `plan`.
                settings, said = settle_all(track_settings, script)
                _resolve(voices, settings, script.language)
                named = engine_named(track_settings, script)
                for section in script.sections:
                    if section.settings.voice is not None or section.settings.engine is not None:
                        _resolve(voices, section_voice(section, settings, script, engine_named=named)[0], script.language)
                result.warnings += [where + str(w) for w in said]  # about voices that exist: an unknown one is the error alone
            except AttuneError as exc:
                settings = track_settings.over(script.settings).resolved()
                if spec.settings.voice is None and exc.path is None:
                    exc.path, exc.line = script.path, script.voice_line
                result.problems.append(where + str(exc))
            try:
                check_backgrounds(script, spec.settings)
            except AttuneError as exc:
                result.problems.append(where + str(exc))
            if settings.length_s is not None:
                try:
                    fitted = fit(script, settings, cache_dir, settings.length_s)
                except AttuneError as exc:  # a take that lacks a sentence
                    result.problems += [where + line for line in exc.lines()]
                    continue
                estimated += fitted.estimated
                if fitted.error is not None:
                    result.problems.append(f"{where}{fitted.error.message} — {fitted.error.hint}{fitted.note()}")
    if not result.problems:
        note = f" ({estimated} estimated from the words and the rate)" if estimated else ""
        formats = sorted({f for c in roster.clients for t in c.tracks for f in (t.settings.formats or ("mp3",))})
        result.summary = (
            f"roster of {len(roster.clients)} client{'s' if len(roster.clients) != 1 else ''}, {tracks} track{'s' if tracks != 1 else ''}"
            f" ({', '.join(formats)}), every length fits{note}"
        )
    return result
