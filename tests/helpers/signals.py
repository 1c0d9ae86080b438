"""Test signals built in code: tone bursts, noise, speech-like noise, and cases that overshoot."""

from __future__ import annotations

import numpy as np
import scipy.signal

from attune.audio.limiter import LIMITER_CONTEXT_FRAMES
from attune.timebase import SAMPLE_RATE

SR = SAMPLE_RATE


C = LIMITER_CONTEXT_FRAMES


def tone_bursts(seconds: float = 12.0) -> np.ndarray:
    """1 kHz bursts (1.2 s on, 0.8 s off), the right channel 6 dB down: gating matters."""
    t = np.arange(int(seconds * SR)) / SR
    x = 0.3 * np.sin(2 * np.pi * 997 * t) * ((t % 2.0) < 1.2)
    return np.stack([x, 0.5 * x], axis=1).astype(np.float32)


def noise(seconds: float = 10.0, seed: int = 1) -> np.ndarray:
    return (0.05 * np.random.default_rng(seed).standard_normal((int(seconds * SR), 2))).astype(np.float32)


def speech_like(seconds: float = 15.0, seed: int = 2, level: float = 0.4) -> np.ndarray:
    """Band-passed noise under a syllable-rate envelope with phrase pauses (and silent gaps)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    b, a = scipy.signal.butter(2, [150 / (SR / 2), 4000 / (SR / 2)], "band")
    w = scipy.signal.lfilter(b, a, rng.standard_normal((n, 2)), axis=0)
    w[:, 1] = 0.8 * w[:, 0] + 0.2 * w[:, 1]
    t = np.arange(n) / SR
    envelope = np.clip(np.sin(2 * np.pi * 3.3 * t) * np.sin(2 * np.pi * 0.23 * t), 0, None) ** 1.5
    envelope *= np.sin(2 * np.pi * 0.07 * t) > -0.3
    return (level * w * envelope[:, None]).astype(np.float32)


SIGNALS = {"tone bursts": tone_bursts, "noise": noise, "speech-like": speech_like}


def hard_cases() -> dict[str, np.ndarray]:
    t = np.arange(3 * SR) / SR
    square = np.sign(np.sin(2 * np.pi * 220 * t))
    square = scipy.signal.lfilter(*scipy.signal.butter(4, 12000 / (SR / 2)), square)
    loud_speech = speech_like(6.0, seed=3)
    loud_speech *= np.float32(1.4 / np.abs(loud_speech).max())  # peaks +2.9 dBFS
    return {
        "sine fs/4 full scale": np.stack([np.sin(2 * np.pi * (SR / 4) * t + np.pi / 4), np.sin(2 * np.pi * (SR / 4 - 3) * t)], 1).astype(np.float32),
        "sine 11 kHz full scale": np.stack([np.sin(2 * np.pi * 11000 * t + 0.3)] * 2, 1).astype(np.float32),
        "speech-like +3 dBFS": loud_speech,
        "square-ish": np.stack([square, -0.9 * square], 1).astype(np.float32),
    }
