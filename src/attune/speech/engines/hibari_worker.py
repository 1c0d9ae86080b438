"""The hibari worker: a child process that owns onnxruntime and hibari's voice models.

Requests are `attune.speech.engines.packaged_worker`'s. A voice is loaded from the model file the
parent names (`Hibari(voice, model=PATH)`), so hibari never downloads anything here.

hibari's network predicts a spectrum per 12.5 ms frame and its `dsp.synth` turns the frames into a
waveform. Its speed moves the pace in steps (see `hibari.HibariSynthesizer.PACE_SCALES`), so a
`stretch` other than 1 lengthens the frame sequence itself before `dsp.synth`: log magnitudes,
phase rotation and F0 interpolated between neighbouring frames, the free phase from the nearest
one, an unvoiced neighbour kept unvoiced. The pitch and the spectrum stay as they are; only time moves.
"""

from __future__ import annotations

import sys

from attune.speech.engines.packaged_worker import run

#: hibari's F0 below this is an unvoiced frame (hibari.dsp.pulses' vthresh).
_VOICED_HZ = 40.0


def _hello() -> dict:
    import importlib.metadata

    import hibari  # noqa: F401 - fails here, clearly, when hibari-tts is missing
    import onnxruntime

    return {"hibari-tts": importlib.metadata.version("hibari-tts"), "onnxruntime": onnxruntime.__version__}


def stretch_frames(frames: tuple, factor: float) -> tuple:
    """hibari's network outputs (lh, th, ln, lr, phi: [bins, F]; f0: [F]) over round(F * factor) frames."""
    import numpy as np

    lh, th, ln, lr, phi, f0 = frames
    count = f0.shape[0]
    target = max(1, round(count * factor))
    if target == count or count < 2:
        return frames
    position = np.clip((np.arange(target) + 0.5) * count / target - 0.5, 0.0, count - 1.0)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, count - 1)
    weight = (position - low).astype(np.float32)

    def between(a):
        return a[:, low] * (1.0 - weight) + a[:, high] * weight

    nearest = np.rint(position).astype(np.int64)
    f0_new = f0[low] * (1.0 - weight) + f0[high] * weight
    unvoiced = (f0[low] < _VOICED_HZ) | (f0[high] < _VOICED_HZ)
    f0_new[unvoiced] = f0[nearest][unvoiced]
    out = (between(lh), between(th), between(ln), between(lr), phi[:, nearest], f0_new)
    return tuple(np.ascontiguousarray(a, dtype=np.float32) for a in out)


def _load(request: dict):
    import numpy as np
    from hibari import Hibari, dsp

    if not request.get("model"):
        raise FileNotFoundError(f"the voice {request.get('voice')} is not downloaded")
    # One onnxruntime thread: the parent runs one worker per core, each on its own sentence.
    tts = Hibari(voice=request["voice"], model=request["model"], threads=1)

    def speak(text: str, speed: float, pitch: float | None, stretch: float):
        # seed=0: the same sentence gives the same samples (the cache and golden checks rely on it).
        if abs(stretch - 1.0) < 1e-4:
            return tts(text, speed=speed, seed=0), int(tts.sample_rate)
        rng, parts = np.random.default_rng(0), []
        for phonemes in tts.phonemize(text):  # as Hibari.__call__ does, with the frames stretched
            ids = tts.ids(phonemes)
            if len(ids) < 3:
                continue
            out = tts.sess.run(None, {"ids": np.asarray([ids], np.int64), "speed": np.asarray([speed], np.float32)})
            parts.append(dsp.synth(*stretch_frames(tuple(o[0] for o in out), stretch), rng))
        return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), int(tts.sample_rate)

    return speak


if __name__ == "__main__":
    sys.exit(run(_hello, _load, "pip install 'attune[voices]'"))
