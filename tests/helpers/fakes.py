"""Stand-ins for the real speech engine in unit tests (every feature also runs end to end with the real one)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from attune.script import count_words
from attune.speech.engines.base import VoiceSettings
from attune.speech.voices import VoiceInfo


class FakeSynthesizer:
    """Stands in for pyttsx3: 'speaks' a syllable-modulated tone, as long as the words take at the rate.

    `calls` counts synthesis requests, so tests can prove a warm re-render does none.
    `fail_with` makes it misbehave: "empty", "silent", "truncated".
    """

    engine_id = "fake-engine 1"

    def __init__(self, fail_with: str | None = None):
        self.calls: list[str] = []
        self.fail_with = fail_with

    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo("gmw/en-us", "English (America)", ("en-us",), "Male"),
            VoiceInfo("gmw/en", "English (Great Britain)", ("en-gb",), "Male"),
            VoiceInfo("roa/es", "Spanish (Spain)", ("es",), "Male"),
        ]

    def variants(self) -> list[str]:
        return ["f3", "m2", "whisper"]

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        self.calls.append(text)
        rate_hz = 22050
        speech_s = max(0.3, count_words(text) * 60.0 / voice.rate_wpm)
        t = np.arange(int(speech_s * rate_hz)) / rate_hz
        tone = 0.5 * np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
        if self.fail_with == "silent":
            tone[:] = 0
        if self.fail_with == "peaky":  # a quiet voice with loud plosives, like Piper's joe: the limiter holds them
            tone *= 0.05
            tone[(t % 0.5) < 0.01] *= 8.0
        if self.fail_with == "truncated":
            tone = tone[: rate_hz // 20]
        else:
            tone = np.concatenate([np.zeros(rate_hz // 10), tone, np.zeros(rate_hz // 3)])
        with wave.open(str(wav_path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate_hz)
            if self.fail_with != "empty":
                w.writeframes((tone * 32767).astype("<i2").tobytes())

    def close(self) -> None:
        pass


#: The voice the speech tests speak with.
VOICE = VoiceSettings("gmw/en-us", 140.0, 50)
