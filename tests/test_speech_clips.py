"""attune.speech.clips: what an engine wrote, validated, trimmed, resampled and faded."""

import numpy as np
import pytest

from attune.errors import SpeechError
from attune.speech.clips import process_clip
from attune.timebase import SAMPLE_RATE


def tone(seconds, rate=22050, lead=0.1, tail=0.3):
    t = np.arange(int(seconds * rate)) / rate
    body = 0.5 * np.sin(2 * np.pi * 200 * t)
    return np.concatenate([np.zeros(int(lead * rate)), body, np.zeros(int(tail * rate))])


def test_clip_is_trimmed_resampled_and_faded():
    clip = process_clip(tone(1.0), 22050, "one two", 140)
    assert clip.dtype == np.float32
    # 1 s of sound, plus the 20 ms and 40 ms margins, at 44.1 kHz.
    assert clip.shape[0] == pytest.approx(1.06 * SAMPLE_RATE, abs=0.011 * SAMPLE_RATE)
    assert abs(clip[0]) < 1e-3 and abs(clip[-1]) < 1e-3
    assert np.max(np.abs(clip)) == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize(
    "samples, message",
    [
        (np.zeros(0), 'the speech engine returned no audio for "Hello there." — try again; if it persists, run `attune doctor`'),
        (np.zeros(22050), 'the speech engine returned no audio for "Hello there." — try again; if it persists, run `attune doctor`'),
        (np.full(22050, 1e-5), 'the speech engine returned silence for "Hello there." — try again; if it persists, run `attune doctor`'),
    ],
)
def test_empty_or_silent_speech_is_an_error(samples, message):
    with pytest.raises(SpeechError) as info:
        process_clip(samples, 22050, "Hello there.", 140)
    assert str(info.value) == message


def test_truncated_speech_is_an_error():
    # Twelve words cannot be spoken in 0.2 s, and audio that stops mid-sound was cut off.
    with pytest.raises(SpeechError, match=r"truncated audio .*\(0\.2\ds for 12 words\)"):
        process_clip(tone(0.2, tail=0.1), 22050, "one two three four five six seven eight nine ten eleven twelve", 140)
    with pytest.raises(SpeechError, match="truncated"):
        process_clip(tone(2.0, tail=0.0), 22050, "one two", 140)
