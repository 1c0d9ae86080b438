"""Measure a file as delivered: decode it with ffmpeg and meter the voice, the whole track and the true peak.

The figures a render prints come from here, from the file that was written, not from the PCM that
went into the encoder: an encoder changes the level a little (LAME scales by 0.95) and overshoots on
heavily limited audio, and only the decoded file shows by how much.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ..audio.meter import LoudnessMeter
from ..audio.peak import TruePeakMeter
from ..errors import AudioError
from ..system import procs
from ..system.ffmpeg import ffmpeg_exe

_BLOCK_FRAMES = 1 << 16


@dataclass(frozen=True)
class Measurement:
    """What a decoded file measures: BS.1770 integrated loudness of the voice (the speech events cut
    out and joined; None when nothing is spoken) and of the whole track, and its true peak."""

    voice_lufs: float | None
    track_lufs: float
    true_peak_dbtp: float
    n_frames: int
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.sample_rate


class StreamMeasure:
    """The meters of one decoded stream, fed block by block: the whole track, the voice (the parts of
    each block inside `speech_spans`, in frames at the stream's rate) and the true peak.

    `limit_frames`, when given, is where the stream is taken to end: frames after it are counted in
    `frames_seen` but not measured (an encoder's loopback decoder passes on the AAC padding that the
    file's edit list trims).
    """

    def __init__(self, speech_spans: Sequence[tuple[int, int]], sample_rate: int, channels: int = 2, limit_frames: int | None = None):
        self.sample_rate, self.channels = sample_rate, channels
        self._track, self._voice = LoudnessMeter(sample_rate, channels), LoudnessMeter(sample_rate, channels)
        self._peak = TruePeakMeter(channels)
        self._spans = sorted(speech_spans)
        self._span_index = 0
        self._limit = limit_frames
        self.frames = 0
        self.frames_seen = 0

    def add(self, block: np.ndarray) -> None:
        self.frames_seen += len(block)
        if self._limit is not None:
            block = block[: max(self._limit - self.frames, 0)]
        if not len(block):
            return
        frame = self.frames
        self._track.add(block)
        self._peak.add(block)
        end = frame + len(block)
        spans = self._spans
        # The parts of this block inside speech events, in order.
        while self._span_index < len(spans) and spans[self._span_index][1] <= frame:
            self._span_index += 1
        k = self._span_index
        while k < len(spans) and spans[k][0] < end:
            a, b = max(spans[k][0], frame), min(spans[k][1], end)
            if a < b:
                self._voice.add(block[a - frame : b - frame])
            k += 1
        self.frames = end

    def result(self) -> Measurement:
        voice_lufs = None
        if self._spans:
            voice_lufs = self._voice.integrated_lufs()
            if not math.isfinite(voice_lufs):
                voice_lufs = self._voice.ungated_lufs()
            if not math.isfinite(voice_lufs):
                voice_lufs = None
        return Measurement(voice_lufs, self._track.integrated_lufs(), self._peak.true_peak_dbtp(), self.frames, self.sample_rate)


def read_blocks(stream: IO[bytes], channels: int, cancel: threading.Event | None = None) -> Iterator[np.ndarray]:
    """Float32 frames from a pipe, in blocks of up to 65,536 frames (a frame split between reads is carried over)."""
    frame_bytes = 4 * channels
    carry = b""
    while True:
        if cancel is not None and cancel.is_set():
            return
        data = stream.read(_BLOCK_FRAMES * frame_bytes)
        if not data:
            return
        data = carry + data
        usable = len(data) // frame_bytes * frame_bytes
        carry = data[usable:]
        if usable:
            yield np.frombuffer(data[:usable], dtype="<f4").reshape(-1, channels)


def measure_file(
    path: Path, speech_spans: Sequence[tuple[int, int]], *, sample_rate: int = 44100, channels: int = 2, cancel: threading.Event | None = None
) -> Measurement:
    """Decode `path` to float at `sample_rate` and measure it; `speech_spans` are (start, end) frames at that rate.

    `cancel`, when set (by the thread that waits for this one, interrupted), stops the decode within a block.

    Memory stays flat: the file is read through a pipe in blocks of 65,536 frames.
    """
    argv = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-i", str(path), "-map", "0:a:0", *decoded_pcm_args(sample_rate, channels), "pipe:1"]
    meters = StreamMeasure(speech_spans, sample_rate, channels)
    with tempfile.TemporaryFile() as stderr:
        try:
            proc = procs.start(argv, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True)
        except OSError as exc:
            raise AudioError(f"could not start ffmpeg to measure {path.name}: {exc}", "run `attune doctor`") from None
        assert proc.stdout is not None
        try:
            for block in read_blocks(proc.stdout, channels, cancel):
                meters.add(block)
            if cancel is not None and cancel.is_set():
                proc.kill()
                raise AudioError("the measurement was stopped", "render again", path=str(path))
        finally:
            with contextlib.suppress(Exception):
                proc.stdout.close()
            proc.wait()
        if proc.returncode != 0:
            stderr.seek(0)
            tail = stderr.read().decode("utf-8", "replace").strip().splitlines()
            raise AudioError(
                f"ffmpeg could not decode the file it wrote ({tail[-1] if tail else f'exit code {proc.returncode}'})",
                "check free disk space, then run `attune doctor`",
                path=str(path),
            )
    return meters.result()


def decoded_pcm_args(sample_rate: int, channels: int = 2) -> list[str]:
    """ffmpeg's output options for decoded audio as Attune's meters read it: float32 at `sample_rate`."""
    return ["-f", "f32le", "-ac", str(channels), "-ar", str(sample_rate)]


def audio_bitrate_kbps(path: Path, duration_s: float) -> float | None:
    """The audio stream's average bitrate in kbit/s: the bytes of its packets, as ffmpeg reads them
    from the file (no tags or cover art), over `duration_s`. None if ffmpeg cannot read the file."""
    argv = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-i", str(path), "-map", "0:a:0", "-c", "copy", "-f", "framecrc", "-"]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0 or duration_s <= 0:
        return None
    # framecrc: one line per packet, "stream, dts, pts, duration, size, checksum".
    total = sum(int(fields[4]) for line in result.stdout.splitlines() if not line.startswith("#") and len(fields := line.split(",")) >= 5)
    return total * 8 / duration_s / 1000
