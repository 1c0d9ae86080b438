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

#: Bump when the way clips are processed or stored changes, so old cache entries are not reused
#: (2: each clip file ends with its checksum).
CLIP_FORMAT_VERSION = 2
#: The cached voice listing's name, in each engine's folder (bumped when what is listed changes).
VOICES_FILE = "voices-2.json"


def engine_root(cache_dir: Path, engine_id: str) -> Path:
    return Path(cache_dir) / "speech" / hashlib.sha256(engine_id.encode()).hexdigest()[:12]


def clip_key(engine_id: str, voice: VoiceSettings, text: str, voice_key: str | None = None) -> str:
    """`voice_key` is the engine's hash of the voice model's files (None for an engine without model
    files, such as pyttsx3); with a speaker or a model hash, both are part of the key."""
    material: list[object] = [CLIP_FORMAT_VERSION, engine_id, voice.voice_id, voice.rate_wpm, voice.pitch, text]
    if voice.speaker is not None or voice_key is not None:  # (the key of a voice without either is unchanged)
        material += [voice.speaker, voice_key]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


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
