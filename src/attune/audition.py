"""`attune voices --sample`: one short clip per installed voice, levelled alike, so a teacher can listen and choose.

Each clip is a real render (`attune.render`) of one or two sentences: the voice measured alone and
brought to the same loudness (-16 LUFS by default, BS.1770 over the speech), the limiter, an MP3
written atomically and measured. The neural voices are every ready voice of every installed engine;
espeak-ng gives one voice per language sampled (it has 141). `--voice` narrows them the way it
chooses a voice (female, es, en-GB, heart).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import VoiceError
from .render import render
from .request import RenderRequest
from .settings import DEFAULT_LOUDNESS_LUFS, TrackSettings
from .slugs import slugify
from .speech.catalog import CatalogVoice, known_names, neural_voices
from .speech.wishes import parse_wish, primary

#: The sentence each language's voices read when no text is given.
SAMPLE_TEXTS = {
    "en": "Let your attention rest on the breath, and let each breath be easy.",
    "es": "Deja que tu atención descanse en la respiración, y que cada respiración sea suave.",
    "de": "Lass deine Aufmerksamkeit beim Atem ruhen, und lass jeden Atemzug leicht sein.",
    "fr": "Laisse ton attention se poser sur le souffle, et laisse chaque respiration être facile.",
    "it": "Lascia che la tua attenzione riposi sul respiro, e che ogni respiro sia leggero.",
}


@dataclass(frozen=True)
class Sample:
    voice: CatalogVoice
    path: Path
    duration_s: float
    voice_lufs: float | None


def candidates(voice: str | None = None) -> list[CatalogVoice]:
    """The voices to sample: every ready neural voice, and espeak-ng for each language among them (English at least)."""
    voices = neural_voices(include_missing=False)
    languages = sorted({primary(v.language) for v in voices} | {"en"})
    voices += [CatalogVoice("pyttsx3", code, code, None, None, "espeak-ng", True, code) for code in languages]
    if voice is None:
        return voices
    wish = parse_wish(voice, known_names())
    if wish is None:
        raise VoiceError(f"--voice {voice!r} is not a gender, a language or a neural voice's name", "try --voice female, --voice es or --voice en-GB")
    if wish.languages and not any(primary(v.language) == primary(w) for v in voices for w in wish.languages):
        voices += [CatalogVoice("pyttsx3", w.lower(), w, None, None, "espeak-ng", True, w.lower()) for w in wish.languages]
    chosen = [v for v in voices if v.grants(wish)]
    if not chosen:
        raise VoiceError(f"no installed voice is {wish.describe()}", "`attune voices --all` lists them")
    return chosen


def sample_voices(
    folder: Path, text: str | None = None, voice: str | None = None, *, cache_dir: Path | None = None, loudness_lufs: float = DEFAULT_LOUDNESS_LUFS,
    progress: Callable[[Sample], None] | None = None,
) -> list[Sample]:  # fmt: skip
    """Render one clip per voice into `folder` (`ENGINE-NAME.mp3`), each at `loudness_lufs`; returns them in order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    with tempfile.TemporaryDirectory(prefix="attune-sample-") as scratch:
        for v in candidates(voice):
            words = text or SAMPLE_TEXTS.get(primary(v.language), SAMPLE_TEXTS["en"])
            script = Path(scratch) / f"{slugify(v.engine + '-' + v.name, fallback='voice')}.yaml"
            quoted = words.replace("\\", "\\\\").replace('"', '\\"')
            script.write_text(f'title: "{v.engine} {v.name}"\nlanguage: {v.language}\nsections:\n  - text: "{quoted}"\n', encoding="utf-8")
            out = folder / f"{script.stem}.mp3"
            settings = TrackSettings(engine=v.engine, voice=v.spec or v.name, loudness_lufs=loudness_lufs)
            result = render(RenderRequest(script, out, settings, title=f"{v.engine} {v.name}"), cache_dir=cache_dir)
            sample = Sample(v, out, result.duration_s, result.voice_lufs)
            samples.append(sample)
            if progress is not None:
                progress(sample)
    return samples
