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
    #: hibari's speed is 0.5–2.0 by its documentation: 100 wpm needs about 0.6, 200 wpm about 1.2.
    PACE_SCALES = (0.8, 1.25, 1.9)

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
