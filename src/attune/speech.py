"""Speech: pyttsx3 behind a small `Synthesizer` interface, and an on-disk cache of finished clips.

Every sentence is synthesised once per (engine, voice, rate, pitch, text) and kept in the cache
as a trimmed, edge-faded float32 clip at the track's rate, so a re-render with another length or
background does no synthesis at all. Speech that comes back empty or truncated is an error: it
is never replaced by silence.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Protocol

import numpy as np

from . import procs
from .errors import SpeechError
from .ffmpeg import configure_pydub
from .espeak import engine_description, espeak_variants, find_espeak
from .request import default_cache_dir
from .voices import VoiceInfo

SAMPLE_RATE = 44100
#: Bump when the way clips are processed changes, so old cache entries are not reused.
CLIP_FORMAT_VERSION = 1
#: Seconds the speech engine gets to start, and to speak one sentence (plus CHAR_TIMEOUT_S a character).
START_TIMEOUT_S = 60.0
SPEAK_TIMEOUT_S = float(os.environ.get("ATTUNE_SPEECH_TIMEOUT_S", "30"))
CHAR_TIMEOUT_S = 0.05
#: Edge fade of every clip, so that no join has a discontinuity.
EDGE_FADE_S = 0.005
_ACTIVE_DBFS = -50.0


@dataclass(frozen=True)
class VoiceSettings:
    """How to speak: an engine voice id (with any +variant), words per minute, pitch 0–100 (None: engine default)."""

    voice_id: str
    rate_wpm: float
    pitch: int | None = None


class Synthesizer(Protocol):
    """What Attune needs from a speech engine. Tests substitute a fake one."""

    engine_id: str

    def voices(self) -> list[VoiceInfo]: ...

    def variants(self) -> list[str]: ...

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None: ...

    def close(self) -> None: ...


class Pyttsx3Synthesizer:
    """pyttsx3 in a child process (`attune.speech_worker`), started on first use, with time limits."""

    def __init__(self, worker_argv: Sequence[str] | None = None):
        self.engine_id = engine_description()
        self._argv = list(worker_argv or [sys.executable, "-m", "attune.speech_worker"])
        self._proc: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()
        self._stderr = None

    # -- process management -------------------------------------------------
    def _start(self) -> None:
        self._stderr = tempfile.TemporaryFile()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        try:
            self._proc = procs.start(
                self._argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                text=True, encoding="utf-8", bufsize=1, env=env, start_new_session=True,
            )
        except OSError as exc:
            raise SpeechError(f"the speech engine could not start: {exc}", "run `attune doctor`") from None
        proc = self._proc

        def pump() -> None:
            for line in proc.stdout:
                self._replies.put(line)
            self._replies.put(None)

        threading.Thread(target=pump, daemon=True).start()
        reply = self._request({"op": "hello"}, START_TIMEOUT_S, "starting")
        if not reply.get("ok"):
            self.close()
            raise SpeechError(reply.get("error", "the speech engine could not start"), "run `attune doctor`")

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = [ln for ln in self._stderr.read().decode("utf-8", "replace").splitlines() if ln.strip() and not ln.startswith("Audio saved")]
        return lines[-1].strip() if lines else ""

    def _request(self, payload: dict, timeout_s: float, doing: str) -> dict:
        if self._proc is None:
            self._start()
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(payload) + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the worker died; the reply queue reports it below
        try:
            line = self._replies.get(timeout=timeout_s)
        except queue.Empty:
            self.close()
            raise SpeechError(f"the speech engine did not answer within {timeout_s:.0f}s while {doing}", "try again; if it keeps hanging, run `attune doctor`") from None
        if line is None:
            tail = self._stderr_tail()
            self.close()
            raise SpeechError(f"the speech engine stopped while {doing}" + (f" ({tail})" if tail else ""), "run `attune doctor`")
        return json.loads(line)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(Exception):
                proc.stdin.close()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._replies = queue.Queue()

    # -- Synthesizer ----------------------------------------------------------
    def voices(self) -> list[VoiceInfo]:
        reply = self._request({"op": "voices"}, START_TIMEOUT_S, "listing voices")
        if not reply.get("ok"):
            raise SpeechError(reply.get("error", "could not list voices"), "run `attune doctor`")
        return [VoiceInfo(v["id"], v["name"], tuple(v["languages"]), v.get("gender")) for v in reply["voices"]]

    def variants(self) -> list[str]:
        return espeak_variants() if find_espeak() is not None else []

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        timeout_s = SPEAK_TIMEOUT_S + CHAR_TIMEOUT_S * len(text)
        payload = {"op": "synth", "text": text, "voice": voice.voice_id, "rate_wpm": voice.rate_wpm,
                   "pitch": voice.pitch, "path": str(wav_path), "timeout_s": timeout_s}
        reply = self._request(payload, timeout_s, f"speaking {_excerpt(text)}")
        if not reply.get("ok"):
            raise SpeechError(f"the speech engine failed on {_excerpt(text)}: {reply.get('error')}", "check the voice with `attune voices`")


def _excerpt(text: str, limit: int = 40) -> str:
    return '"' + (text if len(text) <= limit else text[: limit - 1] + "…") + '"'


def count_words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def process_clip(samples: np.ndarray, rate_hz: int, text: str, rate_wpm: float) -> np.ndarray:
    """Turn raw engine samples (mono float in -1..1) into a clip at SAMPLE_RATE: validated, trimmed, faded.

    Raises SpeechError when the audio is empty, inaudible, or truncated (shorter than the words could
    be spoken in, or cut off while still sounding).
    """
    if samples.size == 0 or not np.any(samples):
        raise SpeechError(f"the speech engine returned no audio for {_excerpt(text)}", "try again; if it persists, run `attune doctor`")
    window = max(1, rate_hz // 100)  # 10 ms
    usable = samples[: samples.size // window * window]
    if usable.size == 0:
        raise SpeechError(f"the speech engine returned only {samples.size} samples for {_excerpt(text)}", "try again")
    rms = np.sqrt(np.mean(usable.reshape(-1, window).astype(np.float64) ** 2, axis=1))
    active = np.nonzero(rms > 10 ** (_ACTIVE_DBFS / 20))[0]
    if active.size == 0:
        raise SpeechError(f"the speech engine returned silence for {_excerpt(text)}", "try again; if it persists, run `attune doctor`")
    spoken_s = (active[-1] - active[0] + 1) * window / rate_hz
    words = count_words(text)
    expected_min_s = 0.25 * words * 60.0 / max(rate_wpm, 1.0)
    if spoken_s < expected_min_s or rms[-1] > 10 ** (-40 / 20):
        raise SpeechError(
            f"the speech engine returned truncated audio for {_excerpt(text)} ({spoken_s:.2f}s for {words} words)",
            "try again; if it persists, run `attune doctor`",
        )
    start = max(0, active[0] * window - int(0.02 * rate_hz))
    stop = min(samples.size, (active[-1] + 1) * window + int(0.04 * rate_hz))
    clip = samples[start:stop].astype(np.float64)
    if rate_hz != SAMPLE_RATE:
        from scipy.signal import resample_poly  # imported only when speech is synthesised (scipy.signal is slow to load)

        g = gcd(SAMPLE_RATE, rate_hz)
        clip = resample_poly(clip, SAMPLE_RATE // g, rate_hz // g)
    fade = min(int(EDGE_FADE_S * SAMPLE_RATE), clip.size // 2)
    if fade > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))
        clip[:fade] *= ramp
        clip[-fade:] *= ramp[::-1]
    return clip.astype(np.float32)


def read_wav_mono(path: Path) -> tuple[np.ndarray, int]:
    """Read an engine's WAV through pydub (the clip layer) as mono float in -1..1."""
    AudioSegment = configure_pydub()
    try:
        segment = AudioSegment.from_wav(str(path))
    except Exception as exc:
        raise SpeechError(f"the speech engine wrote an unreadable file ({exc})", "try again; if it persists, run `attune doctor`") from None
    data = np.array(segment.get_array_of_samples(), dtype=np.float64)
    if segment.channels > 1:
        data = data.reshape(-1, segment.channels).mean(axis=1)
    return data / float(1 << (8 * segment.sample_width - 1)), segment.frame_rate


class SpeechCache:
    """Clips on disk under `cache_dir/speech/<engine>/`, keyed by engine, voice, rate, pitch and text."""

    def __init__(self, synthesizer: Synthesizer, cache_dir: Path | None = None):
        self.synthesizer = synthesizer
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        engine_key = hashlib.sha256(synthesizer.engine_id.encode()).hexdigest()[:12]
        self.root = self.cache_dir / "speech" / engine_key
        #: How many clips this cache had to synthesise (0 on a warm re-render).
        self.synthesized = 0

    def key(self, text: str, voice: VoiceSettings) -> str:
        material = json.dumps([CLIP_FORMAT_VERSION, self.synthesizer.engine_id, voice.voice_id, voice.rate_wpm, voice.pitch, text])
        return hashlib.sha256(material.encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def voices(self) -> list[VoiceInfo]:
        """The engine's voices, remembered in the cache so a warm render never starts the engine."""
        listing = self.root / "voices.json"
        with contextlib.suppress(OSError, ValueError, KeyError):
            return [VoiceInfo(v["id"], v["name"], tuple(v["languages"]), v.get("gender")) for v in json.loads(listing.read_text("utf-8"))]
        voices = self.synthesizer.voices()
        with contextlib.suppress(OSError):
            listing.parent.mkdir(parents=True, exist_ok=True)
            tmp = listing.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps([{"id": v.id, "name": v.name, "languages": list(v.languages), "gender": v.gender} for v in voices]), "utf-8")
            os.replace(tmp, listing)
        return voices

    def frames(self, key: str) -> int:
        return int(np.load(self.path(key), mmap_mode="r").shape[0])

    def load(self, key: str) -> np.ndarray:
        return np.load(self.path(key))

    def ensure(self, texts: Iterable[str], voice: VoiceSettings, progress: Callable[[int, int], None] | None = None) -> dict[str, str]:
        """Make sure every text has a clip; return text → cache key. Synthesises only what is missing."""
        keys = {text: self.key(text, voice) for text in dict.fromkeys(texts)}
        missing = [text for text, key in keys.items() if not self.path(key).exists()]
        for done, text in enumerate(missing, 1):
            self._synthesize(text, voice, keys[text])
            if progress:
                progress(done, len(missing))
        return keys

    def _synthesize(self, text: str, voice: VoiceSettings, key: str) -> None:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="attune-tts-", ignore_cleanup_errors=True) as scratch:
            wav = Path(scratch) / "speech.wav"
            try:
                self.synthesizer.synthesize(text, voice, wav)
            except BaseException:
                # Stop the engine before its scratch folder goes: it may still be writing there.
                self.synthesizer.close()
                raise
            if not wav.exists() or wav.stat().st_size <= 44:
                raise SpeechError(f"the speech engine wrote no audio for {_excerpt(text)}", "try again; if it persists, run `attune doctor`")
            samples, rate_hz = read_wav_mono(wav)
        clip = process_clip(samples, rate_hz, text, voice.rate_wpm)
        tmp = final.with_name(f".{final.name}.{os.getpid()}.part")
        try:
            with open(tmp, "wb") as fh:
                np.save(fh, clip)
            os.replace(tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self.synthesized += 1
