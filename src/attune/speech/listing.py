"""`attune voices`: every voice an engine has, as lines of a table, saying only what the engine says.

pyttsx3 (espeak-ng): id, name, language, then every variant with the name and gender its file
declares (espeak-ng's voices themselves carry no gender). piper: name, short name, language,
quality, sample rate, speakers and where the voice lives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import AttuneError, VoiceError
from .voices import VoiceInfo, filter_voices


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]


def _variant_order(name: str) -> tuple[int, str, int]:
    """f1…f5, then m1…m8, then the named variants alphabetically."""
    match = re.fullmatch(r"([fm])(\d+)", name)
    if match:
        return (0 if match.group(1) == "f" else 1, "", int(match.group(2)))
    return (2, name.lower(), 0)


def voice_lines(engine: str, language: str | None = None) -> list[str]:
    """The lines `attune voices --engine ENGINE [--language L]` prints."""
    from .engines import create_synthesizer

    if engine in ("hibari", "pico"):
        return _packaged_lines(engine, language)
    synth = create_synthesizer(engine)
    try:
        found = filter_voices(synth.voices(), language)
    finally:
        synth.close()
    if engine == "piper":
        return _piper_lines(found, language)
    if not found:
        raise AttuneError(f"no voice speaks {language!r}", "run `attune voices` without --language to see them all")
    return _pyttsx3_lines(found)


def _pyttsx3_lines(found: Sequence[VoiceInfo]) -> list[str]:
    from .engines.espeak import espeak_variant_details, find_espeak

    with_gender = any(v.gender for v in found)
    header = ["id", "name", "language"] + (["gender"] if with_gender else [])
    rows = [[v.id, v.name, ",".join(v.languages)] + ([v.gender or "-"] if with_gender else []) for v in found]
    lines = [*_table(header, rows), "", f"{len(found)} voices"]
    if find_espeak() is not None:
        details = sorted(espeak_variant_details(), key=lambda d: _variant_order(d[0]))
        lines += ["", f"espeak variants ({len(details)}): append one to any voice for another timbre, e.g. --voice en-us+f3"]
        lines += _table(["variant", "name", "gender (as its file declares)"], [[f"+{v}", name, gender or "-"] for v, name, gender in details])
    return lines


def _piper_lines(found: Sequence[VoiceInfo], language: str | None) -> list[str]:
    from .engines.piper_voices import VOICE_LIST, voices_dir

    if not found:
        what = f"for the language {language!r} " if language else ""
        raise VoiceError(f"no Piper voice {what}is installed", f"add one from {VOICE_LIST} to {voices_dir()} (its .onnx and .onnx.json), or use --engine pyttsx3")
    rows = []
    for v in found:
        parts = v.name.split("-")
        short = "-".join(parts[1:-1]) if len(parts) >= 3 else v.name
        rows.append([v.name, short, ",".join(v.languages), v.quality or "-", f"{v.sample_rate_hz} Hz", v.speakers or "1", v.location or "-"])
    lines = _table(["name", "short", "language", "quality", "sample rate", "speakers", "where"], rows)
    return [*lines, "", f"{len(found)} Piper voice{'s' if len(found) != 1 else ''}; voices folder: {voices_dir()} (add *.onnx with *.onnx.json from {VOICE_LIST})"]


def all_voice_lines(language: str | None = None) -> list[str]:
    """The lines `attune voices --all` prints: every voice of every installed engine (the neural ones
    best first, then espeak-ng's), and what each extra that is not installed would add."""
    from .catalog import missing_offers, neural_voices
    from .engines.espeak import find_espeak
    from .wishes import language_fits

    rows = []
    for v in neural_voices():
        if language and not language_fits(v.language, language):
            continue
        rows.append([v.name, v.engine, v.language, v.gender or "-", f"{v.sample_rate_hz} Hz" if v.sample_rate_hz else "-", v.source])
    neural = len(rows)
    waiting = sum(1 for row in rows if row[5].startswith("needs download"))
    espeak = 0
    try:
        from .engines import create_synthesizer

        synth = create_synthesizer("pyttsx3")
        try:
            found = filter_voices(synth.voices(), language)
        finally:
            synth.close()
        lib = find_espeak()
        where = f"espeak-ng ({lib.source})" if lib is not None else "system voices"
        for info in found:
            rows.append([info.id, "pyttsx3", ",".join(info.languages), info.gender or "-", "-", where])
        espeak = len(found)
    except AttuneError as exc:
        rows.append(["-", "pyttsx3", "-", "-", "-", f"unavailable: {exc}"])
    lines = _table(["name", "engine", "language", "gender", "sample rate", "where"], rows)
    families = len({row[1] for row in rows[:neural]})
    lines += ["", f"{neural - waiting} neural voices ready from {families} engines ({waiting} more need a download), {espeak} pyttsx3 voices (espeak variants: `attune voices`)"]
    offers = missing_offers()
    if offers:
        lines += ["", "not installed:"]
        for extra, engine, voices, licence in offers:
            names = ", ".join(f"{v.name} ({v.language}{', ' + v.gender if v.gender else ''})" for v in voices)
            lines.append(f"  pip install 'attune[{extra}]'  adds {engine}: {names}  [{licence}]")
    lines.append("more Piper voices: `attune voices add NAME` (names from rhasspy/piper-voices, e.g. en_GB-alba-medium, es_ES-davefx-medium)")
    return lines


def _packaged_lines(engine: str, language: str | None) -> list[str]:
    """A packaged engine's voices (hibari, pico), the ones that need a download too."""
    from .engines import _packaged
    from .wishes import language_fits

    synth_class = _packaged(engine)
    assert synth_class is not None
    synth_class(parallelism=1).close()  # raises the install hint when the engine is missing
    found = [v for v in synth_class.table() if not language or language_fits(v.language, language)]
    if not found:
        raise VoiceError(f"no {engine} voice speaks {language!r}", "`attune voices --all` lists every engine's voices")
    rows = [[v.name, v.language, v.gender or "-", f"{v.sample_rate_hz} Hz", v.source] for v in found]
    ready = sum(v.ready for v in found)
    return [*_table(["name", "language", "gender", "sample rate", "where"], rows), "", f"{ready} {engine} voices ready, {len(found) - ready} need a download ({synth_class.description()})"]
