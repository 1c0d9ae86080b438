"""Choosing a voice by what a teacher knows, and naming a voice that does not speak the script's language.

With no engine named anywhere (flag, roster, script) and no pitch (a pyttsx3 setting: such a script
was written for espeak-ng), Attune picks the engine itself when the voice is asked for in a
teacher's words: `--voice female`, `male`, `es`, `en-GB`, `en-GB female`, a neural voice's name
(`heart`), or no voice at all under a script's `language:`. The best installed neural voice that
fits wins (`attune.speech.catalog`); when none does, espeak-ng speaks, with a warning naming the extra
(or the download) that would give a neural one. A script with neither a voice nor a language keeps
the default engine.

`check_language` then compares the voice's language with the script's `language:`: a mismatch is a
warning (an error with `strict`), at the line of `language:`, listing the voices that would fit.

Precedence, the same in render, batch, plan and check: an engine named explicitly (`--engine`, a
roster's `defaults:` or track, the script's `engine:`, a section's own `engine:`) is never replaced
by a voice asked in a teacher's words; the words then choose among that engine's voices (`female`
under pyttsx3 is espeak-ng's `en-us+f3`, under Pico its en-US; a wish the named engine cannot grant,
`female` under Piper, whose voices declare no gender, is an error naming the engine). Only where no
engine is named anywhere do the words choose the engine. A section's own voice is chosen this way
(`section_voice`) and its language checked at the section's line.
Light: settings, package files and JSON configs only.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import VoiceError
from ..script.model import Script, ScriptWarning, Section
from ..settings import DEFAULT_ENGINE, TrackSettings
from .catalog import best_voice, known_names, neural_voices, would_give
from .wishes import Wish, language_fits, norm_language, parse_wish, same_language

#: The engines without a pitch control: a pitch written for pyttsx3 is left out under them.
NO_PITCH = ("piper", "hibari")


def wish_of(settings: TrackSettings, language: str | None, *, pitch_blocks: bool = True) -> Wish | None:
    """The wish the settings say in a teacher's words, or None (an engine named, a pitch that says the
    script is for espeak-ng, or an engine's own voice id). `pitch_blocks`: whether a pitch set means espeak-ng."""
    if settings.engine is not None or (settings.pitch is not None and pitch_blocks):
        return None
    spec = settings.voice
    if spec is None:
        return Wish(languages=(language,)) if language else None
    if "+" in spec or "/" in spec or "\\" in spec or spec.lower().endswith(".onnx"):
        return None  # an espeak variant or id, or a model file
    return parse_wish(spec, known_names())


def espeak_voice(wish: Wish, language: str | None) -> str:
    """The espeak-ng voice that comes nearest: the language, and a variant for the gender."""
    code = norm_language((wish.languages or (language or "en-us",))[0])
    if code == "en":
        code = "en-us"
    return code + {"female": "+f3", "male": "+m3"}.get(wish.gender or "", "")


def choose(
    settings: TrackSettings, language: str | None, *, path: str | None = None, line: int | None = None, pitch_blocks: bool = True, need_pitch: bool = False
) -> tuple[TrackSettings, list[ScriptWarning]]:
    """`settings` with the engine and voice chosen from the wish they say (unchanged when they say none).
    A pitch that does not block (a script's, under a voice asked above it) is left out under an engine without
    one; with `need_pitch` (a pitch asked with the voice) only engines with a pitch control are chosen."""
    wish = wish_of(settings, language, pitch_blocks=pitch_blocks)
    if wish is None:
        return settings, []
    full = wish.with_language(language) if not wish.names else wish
    voice = best_voice(full, exclude=NO_PITCH if need_pitch else ())
    if voice is not None:
        pitch = None if voice.engine in NO_PITCH else settings.pitch
        return settings.with_changes(engine=voice.engine, voice=voice.spec, pitch=pitch), []
    if wish.names:
        return settings, []  # a name an extra would add: pyttsx3 reports it as unknown, with the list
    fallback = espeak_voice(full, language)
    warning = ScriptWarning(f"no installed neural voice is {full.describe()}: espeak-ng speaks it ({fallback})", would_give(full), path, line)
    return settings.with_changes(engine="pyttsx3", voice=fallback), [warning]


def in_named_engine(settings: TrackSettings, language: str | None, *, path: str | None = None, line: int | None = None) -> TrackSettings:
    """`settings` (an engine named) with a voice asked by gender (`female`, `en-GB male`) turned into
    that engine's voice: espeak-ng's nearest (`en-us+f3`), Piper's best that grants it (else a
    VoiceError naming the engine); hibari and Pico take the words themselves, and every engine takes
    a language code, a voice id or a name as it always has."""
    engine = settings.engine or DEFAULT_ENGINE
    wish = wish_of(settings.with_changes(engine=None), None, pitch_blocks=False) if settings.voice is not None else None
    # A name that is no language code too (Pico's voices are called `en-US`, which every engine takes).
    names = {n for n in wish.names if parse_wish(n, ()) is None} if wish is not None else set()
    if names:
        owners = {v.engine for v in neural_voices() if {n.lower() for n in (v.name, v.spec, *v.aliases)} & names}
        if owners and engine not in owners:  # `heart` under pyttsx3: say whose voice it is
            other = sorted(owners)[0]
            raise VoiceError(
                f"the voice {settings.voice} is {other}'s, but the engine {engine} is named for it",
                f"write `engine: {other}` beside the voice, or drop the engine named above it",
                path=path,
                line=line,
            )
    if wish is None or wish.gender is None or wish.names or engine not in ("pyttsx3", "piper"):
        return settings
    full = wish.with_language(language)
    if engine == "pyttsx3":
        return settings.with_changes(voice=espeak_voice(full, language))
    voice = next((v for v in neural_voices(include_missing=False) if v.engine == "piper" and v.grants(full)), None)
    if voice is None:
        raise VoiceError(
            f"no installed Piper voice is {full.describe()}, and the engine piper is named for this voice",
            "name a Piper voice (`attune voices --engine piper`), or an engine that has one (`engine: hibari`)"
            + (" beside the section's voice" if line is not None else ""),
            path=path,
            line=line,
        )
    return settings.with_changes(voice=voice.spec)


def section_voice(
    section: Section, track: TrackSettings, script: Script, *, engine_named: bool, strict: bool = False
) -> tuple[TrackSettings, list[ScriptWarning]]:
    """A section's settings over the track's (resolved, with its voice chosen), with its own voice
    chosen as the track's is: by the words when no engine is named above it (`engine_named`: a flag,
    a roster or the script named one), else within the engine named; and the warnings about it: a
    fallback to espeak-ng, a voice that does not speak the script's language (at the section's line;
    `strict`: an error). A section that names neither a voice nor an engine speaks the track's voice."""
    own = section.settings
    merged = own.over(track)
    warnings: list[ScriptWarning] = []
    if (own.voice is None and own.engine is None) or merged.recording is not None:
        return merged, warnings
    if own.voice is not None and own.engine is None and not engine_named:
        merged, warnings = choose(merged.with_changes(engine=None), script.language, path=script.path, line=section.line)
    elif own.voice is not None:
        merged = in_named_engine(merged, script.language, path=script.path, line=section.line)
    engine = merged.engine or DEFAULT_ENGINE
    warnings += check_language(engine, merged.voice, script.language, path=script.path, line=section.line, strict=strict, section=section.name)
    return merged, warnings


def voice_language(engine: str, voice: str | None) -> str | None:
    """The language the voice `voice` of `engine` speaks, when it can be told without starting the engine."""
    if voice is None:
        return None
    wanted = voice.strip().lower()
    if engine != "pyttsx3":
        for v in neural_voices():
            if v.engine == engine and wanted in {n.lower() for n in (v.name, v.spec, *v.aliases)}:
                return v.language
        if engine == "piper" and wanted.endswith(".onnx"):
            from .engines.piper_voices import read_voice

            try:
                return norm_language(read_voice(Path(voice), "file").language)
            except VoiceError:
                return None
        return None
    base = wanted.split("+")[0].rsplit("/", 1)[-1]
    wish = parse_wish(base, ())
    return base if wish is not None and wish.languages and not wish.gender else None


def check_language(
    engine: str, voice: str | None, language: str | None, *, path: str | None, line: int | None, strict: bool, section: str | None = None
) -> list[ScriptWarning]:
    """A warning (with `strict`, a VoiceError) when the voice speaks another language than the script
    (`section`: the section whose own voice it is, named in the message)."""
    if not language:
        return []
    speaks = voice_language(engine, voice)
    if speaks is None or same_language(speaks, language):
        return []
    fitting = [f"{v.name} ({v.engine}, {v.language})" for v in neural_voices(include_missing=False) if language_fits(v.language, language)]
    listing = ", ".join(fitting[:6]) if fitting else f"none neural here ({would_give(Wish(languages=(language,)))}); espeak-ng: --engine pyttsx3 --voice {norm_language(language)}"
    message = f"{f'section {section}: ' if section else ''}the voice {voice} ({engine}) speaks {speaks}, not the script's language {language}"
    hint = f"voices that fit: {listing}; or drop the voice and Attune picks one"
    if strict:
        raise VoiceError(message, hint, path=path, line=line)
    return [ScriptWarning(message, hint, path, line)]


def chosen(above: TrackSettings, script: Script) -> tuple[TrackSettings, list[ScriptWarning]]:
    """`above` (flags, a roster) over the script's settings, with the voice chosen. A script's pitch means
    espeak-ng only for the script's own voice: a voice asked above it is chosen, the pitch left out where it cannot be."""
    settings = above.over(script.settings)
    from_script = above.voice is None and settings.voice is not None
    path, line = (script.path, script.voice_line) if from_script else (None, None)
    if settings.engine is not None:  # named: the words choose among its voices
        return in_named_engine(settings, script.language, path=path, line=line), []
    return choose(settings, script.language, path=path, line=line, pitch_blocks=above.voice is None, need_pitch=above.pitch is not None)


def settle(above: TrackSettings, script: Script, *, strict: bool = False) -> tuple[TrackSettings, list[ScriptWarning]]:
    """The track's settings (`above` over the script's, not yet over the defaults) with its voice chosen,
    and the warnings about it: a fallback to espeak-ng, a voice that does not speak the script's
    language (`strict`: an error)."""
    settings, warnings = chosen(above, script)
    engine = settings.engine or DEFAULT_ENGINE
    warnings += check_language(engine, settings.voice, script.language, path=script.path, line=script.language_line, strict=strict)
    return settings, warnings


def engine_named(above: TrackSettings, script: Script) -> bool:
    """Whether an engine is named explicitly over the sections: by a flag, a roster, or the script."""
    return above.engine is not None or script.settings.engine is not None


def settle_all(above: TrackSettings, script: Script, *, strict: bool = False) -> tuple[TrackSettings, list[ScriptWarning]]:
    """`settle`, then every section's own voice chosen and checked as `render` speaks it
    (`section_voice`): the track's settings (resolved) and every warning, in script order."""
    settings, warnings = settle(above, script, strict=strict)
    resolved = settings.resolved()
    named = engine_named(above, script)
    for section in script.sections:
        warnings += section_voice(section, resolved, script, engine_named=named, strict=strict)[1]
    return resolved, warnings
