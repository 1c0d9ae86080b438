"""Hearing what was rendered, from a file: faster-whisper tiny.en (offline, `helpers.quality.recogniser`)
and the word error rate of what it heard against the script (`helpers.quality`)."""

from __future__ import annotations

from pathlib import Path

from helpers.quality import recogniser as tiny_en
from helpers.quality import word_error_rate, words

__all__ = ["tiny_en", "transcribe", "word_error_rate", "words"]


def transcribe(model, path: str | Path) -> str:
    """What `model` hears in the sound file at `path` (greedy, each window on its own)."""
    segments, _ = model.transcribe(str(path), language="en", beam_size=1, condition_on_previous_text=False)
    return " ".join(segment.text for segment in segments)
