"""Make the bundled demo take, `src/attune/takes/own-voice-take.ogg`: `own-voice.yaml` read aloud by a
synthetic voice (Piper's joe if attune[piper] is installed, else espeak-ng), the way a teacher reads on
a phone: uneven pauses, one false start and its retake, a little hum and room tone, quiet (about -28
LUFS), as Ogg Opus at 32 kbit/s mono. `make demo` renders it into a practice of any length.

    python tools/make_demo_take.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from attune.audio.meter import LoudnessMeter
from attune.library import resolve_script
from attune.plan import section_sentences
from attune.script import load_script
from attune.speech.cache import SpeechCache
from attune.speech.engines import create_synthesizer
from attune.system.ffmpeg import ffmpeg_exe
from attune.timebase import SAMPLE_RATE

HERE = Path(__file__).resolve().parents[1] / "src" / "attune" / "takes"
#: The sentence read twice: first stopped after 40% of it.
RETAKE = 4
GAPS_S = (1.3, 2.1, 1.0, 1.8, 2.6, 1.2, 1.6)


def main() -> None:
    script = load_script(resolve_script(HERE / "own-voice.yaml"), {})
    texts = [t for section in script.sections for t in section_sentences(section)]
    engine = "piper"
    try:
        synth = create_synthesizer(engine)
    except Exception:
        engine, synth = "pyttsx3", create_synthesizer("pyttsx3")
    with tempfile.TemporaryDirectory() as scratch:
        try:
            cache = SpeechCache(synth, Path(scratch))
            voice = cache.voice_settings("joe" if engine == "piper" else None, 125.0, language="en")
            keys = cache.ensure(texts, voice)
            clips = [cache.load(keys[t]).astype(np.float64) for t in texts]
        finally:
            synth.close()
    rng = np.random.default_rng(23)
    parts = [np.zeros(SAMPLE_RATE)]
    for i, clip in enumerate(clips):
        if i == RETAKE:
            stop = clip[: int(clip.size * 0.4)].copy()
            stop[-882:] *= np.linspace(1, 0, 882)
            parts += [stop, np.zeros(int(0.9 * SAMPLE_RATE))]
        parts += [clip, np.zeros(int(GAPS_S[i % len(GAPS_S)] * SAMPLE_RATE))]
    take = np.concatenate(parts)
    t = np.arange(take.size) / SAMPLE_RATE
    hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3))
    room = np.cumsum(rng.standard_normal(take.size))
    room -= np.convolve(room, np.ones(4096) / 4096, mode="same")
    take = take + 0.004 * hum + room * (0.003 / np.std(room))
    meter = LoudnessMeter(SAMPLE_RATE, 1)
    meter.add(take.astype(np.float32))
    take *= 10 ** ((-28.0 - meter.integrated_lufs()) / 20)
    out = HERE / "own-voice-take.ogg"
    subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "-", "-ar", "24000",
                    "-c:a", "libopus", "-b:a", "32k", "-metadata", f"comment=made by tools/make_demo_take.py ({engine})", str(out)],
                   input=take.astype("<f4").tobytes(), check=True)  # fmt: skip
    print(f"{out}: {take.size / SAMPLE_RATE:.1f}s, {out.stat().st_size // 1024} KiB ({engine})")


if __name__ == "__main__":
    main()
