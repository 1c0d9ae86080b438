"""The pico engine: SVOX Pico through py-nanotts (Apache-2.0), six languages, 16 kHz.

Voices: en-US, en-GB, de-DE, es-ES, fr-FR and it-IT, each a pair of lingware files inside the wheel
(`py_nanotts/lang/<lang>_ta.bin`, the text analysis, and `<lang>_<speaker>_sg.bin`, the signal
generation). SVOX recorded a woman for each. The parent reads the file names without loading the
library; speech is made in `pico_worker`. Pico has a pitch control: Attune's 0–100 (50 normal) is
its multiplier 0.5–2.0.
"""

from __future__ import annotations

from .packaged import PackagedSynthesizer, TableVoice, package_folder, package_version

NAME = "pico"
SAMPLE_RATE_HZ = 16000
LANGUAGES = ("en-US", "en-GB", "de-DE", "es-ES", "fr-FR", "it-IT")


class PicoSynthesizer(PackagedSynthesizer):
    NAME = NAME
    MODULE = "attune.speech.engines.pico_worker"
    DIST = "py-nanotts"
    #: Pico's speed is 0.2–5.0 (its `<speed level>` in whole percent). Its pace follows the speed
    #: smoothly (about speed^0.9: en-US speaks the pace passage at 96, 186, 347 and 486 wpm at speeds
    #: 0.5, 1, 2 and 3, measured on fresh memory, see `pico_worker`), but not as one power law, so the
    #: curve is measured at nine speeds a factor 1.25 apart (log-linear between them is then within
    #: 0.5%), from 0.5 to 3.1: the whole `--rate` range, 80–400 wpm (98–488 spoken), is read between
    #: two measured points, never extrapolated. (Before: 3 speeds, 0.5–1.25, so every rate above about
    #: 190 wpm was read off the extension of the last segment.)
    PACE_SCALES = tuple(round(1.0 / speed, 4) for speed in (0.5, 0.63, 0.8, 1.0, 1.25, 1.6, 2.0, 2.5, 3.1))
    #: 3: measured on fresh memory (`pico_worker`), at nine speeds; the samples themselves changed too.
    PACE_VERSION = 3

    @classmethod
    def description(cls) -> str:
        return f"py-nanotts {package_version('py-nanotts') or 'not installed'} (SVOX Pico)"

    @classmethod
    def table(cls) -> list[TableVoice]:
        folder = package_folder("py_nanotts", "lang")
        if folder is None:
            return []
        voices = []
        for language in LANGUAGES:
            files = (folder / f"{language}_ta.bin", *sorted(folder.glob(f"{language}_*_sg.bin")))
            if len(files) == 2 and all(f.is_file() for f in files):
                voices.append(TableVoice(language, language, "female", SAMPLE_RATE_HZ, files, "package py-nanotts"))
        return voices

    def worker_pitch(self, pitch: int | None) -> float | None:
        """Attune's pitch 0–100 as Pico's multiplier: 50 is 1.0, each 50 an octave (0.5 at 0, 2.0 at 100)."""
        return None if pitch is None else 2.0 ** ((pitch - 50) / 50.0)
