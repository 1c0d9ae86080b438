"""The hibari engine: small neural English voices distilled from Kokoro-82M (hibari-tts, Apache-2.0).

The voice `heart` (American English, female, 24 kHz) is inside the wheel. hibari's other voices
(emma, fenrir, fable, kore) are downloaded by hibari on first use; Attune never lets a render do
that: they are listed as "needs download" and usable once they are in hibari's own cache
(`$HIBARI_HOME`, else `~/.cache/hibari`). The parent reads hibari's voice registry
(`hibari/assets/voices.json`) without importing hibari; speech is made in `hibari_worker`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .packaged import PackagedSynthesizer, TableVoice, package_folder, package_version

NAME = "hibari"
SAMPLE_RATE_HZ = 24000
#: Where hibari fetches its other voices from (hibari/voices.py BASE_URL).
DOWNLOAD_SITE = "huggingface.co/maureesewilliams/hibari"


def hibari_cache_dir() -> Path:
    """hibari's download cache, as hibari finds it (hibari/voices.py `cache_dir`)."""
    if os.environ.get("HIBARI_HOME"):
        return Path(os.environ["HIBARI_HOME"])
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "hibari"


class HibariSynthesizer(PackagedSynthesizer):
    NAME = NAME
    MODULE = "attune.speech.engines.hibari_worker"
    DIST = "hibari-tts"
    #: hibari's speed is 0.5–2.0 by its documentation. Its pace moves in steps: each phoneme lasts a
    #: whole number of 12.5 ms frames (its predicted length over the speed, rounded), so where the short
    #: phonemes of 1 to 3 frames round the other way (speeds 0.57, 0.67, 0.8, 0.86, 1.2, 1.33) the pace
    #: jumps, by 25% at 1.33 (measured on 40 sentences at speeds 0.5–1.68 by 0.02: 95.8 s of speech at
    #: 1.32, 75.3 s at 1.34), and between them it hardly moves. The pace is measured at the middle of
    #: each step (speeds 0.5, 0.62, 0.73, 0.83, 1.0, 1.26, 1.6), and the worker stretches the frames of
    #: the nearest one (at most 12% in 100–250 wpm) to reach the pace asked for.
    PACE_SCALES = tuple(round(1.0 / speed, 4) for speed in (0.5, 0.62, 0.73, 0.83, 1.0, 1.26, 1.6))
    STEPPED_PACE = True
    #: 3: paced in steps and stretched.
    PACE_VERSION = 3

    @classmethod
    def description(cls) -> str:
        return f"hibari-tts {package_version('hibari-tts') or 'not installed'}, onnxruntime {package_version('onnxruntime') or 'not installed'}"

    @classmethod
    def table(cls) -> list[TableVoice]:
        """hibari's voices, from its registry: `heart` in the package; the others from its cache, or "needs download"."""
        assets = package_folder("hibari", "assets")
        if assets is None:
            return []
        try:
            registry = json.loads((assets / "voices.json").read_text("utf-8"))
        except (OSError, ValueError):
            return []
        voices = []
        for name, entry in registry.items():
            if not isinstance(entry, dict) or "file" not in entry:
                continue
            language, gender = str(entry.get("language") or "en-US"), entry.get("gender")
            if entry.get("bundled"):
                path = assets / str(entry["file"])
                voices.append(TableVoice(name, language, gender, SAMPLE_RATE_HZ, (path,), "package hibari-tts", path.is_file()))
                continue
            path = hibari_cache_dir() / str(entry["file"])
            size = int(entry.get("bytes") or 0)
            if path.is_file() and (not size or path.stat().st_size == size):
                voices.append(TableVoice(name, language, gender, SAMPLE_RATE_HZ, (path,), f"hibari's download cache: {path}"))
            else:
                hint = (
                    f"hibari downloads it once, with the network: `hibari \"Hello.\" --voice {name} -o /tmp/{name}.wav` "
                    f"(Attune never downloads during a render)"
                )
                voices.append(TableVoice(name, language, gender, SAMPLE_RATE_HZ, (), f"needs download ({size / 1e6:.1f} MB from {DOWNLOAD_SITE})", False, hint))
        return voices
