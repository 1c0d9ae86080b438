"""Where the speech cache keeps a clip, without numpy: `attune check` reads the lengths of cached clips.

A clip's key is a hash of the engine, the voice, the rate, the pitch and the text (see
`attune.speech.cache`); its length in frames is in the header of its `.npy` file.
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

from .engines.base import VoiceSettings

#: Bump when the way clips are processed changes, so old cache entries are not reused.
CLIP_FORMAT_VERSION = 1


def engine_root(cache_dir: Path, engine_id: str) -> Path:
    return Path(cache_dir) / "speech" / hashlib.sha256(engine_id.encode()).hexdigest()[:12]


def clip_key(engine_id: str, voice: VoiceSettings, text: str) -> str:
    material = json.dumps([CLIP_FORMAT_VERSION, engine_id, voice.voice_id, voice.rate_wpm, voice.pitch, text])
    return hashlib.sha256(material.encode()).hexdigest()


def clip_path(root: Path, key: str) -> Path:
    return root / key[:2] / f"{key}.npy"


def npy_frames(path: Path) -> int | None:
    """The first dimension of the array in a `.npy` file, from its header; None if unreadable."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(10)
            if head[:6] != b"\x93NUMPY":
                return None
            if head[6] == 1:
                size = int.from_bytes(head[8:10], "little")
                header = handle.read(size)
            else:
                size = int.from_bytes(head[8:10] + handle.read(2), "little")
                header = handle.read(size)
        shape = ast.literal_eval(header.decode("latin-1"))["shape"]
        return int(shape[0])
    except (OSError, ValueError, SyntaxError, KeyError, IndexError, TypeError):
        return None
