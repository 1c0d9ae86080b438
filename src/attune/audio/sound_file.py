"""Sound files as beds: decoded with ffmpeg, resampled, and made into a seamless loop of the whole file.

ffmpeg (the imageio-ffmpeg binary) decodes whatever it recognises. `decode_sound` (a short check
that a file is audio) has pydub parse the WAV ffmpeg writes; `FileBed` streams the whole file, in
blocks, into a spool it reads from, so a 20-minute recording costs no more memory than a 20-second one.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..errors import AudioError
from ..system.ffmpeg import configure_pydub, ffmpeg_exe

#: Equal-power crossfade that joins a file's tail to its head.
FILE_BED_CROSSFADE_S = 2.0
FILE_BED_MIN_S = 1.0


def decode_sound(path: Path, max_s: float, name: str) -> tuple[np.ndarray, int]:
    """Decode up to `max_s` seconds of `path` to (frames, 2) float32 at the file's own rate.

    How: ffmpeg (ffmpeg_exe()) decodes whatever it recognises to a 16-bit stereo WAV on stdout and
    pydub parses that WAV (`AudioSegment.from_wav`). pydub's own `from_file` would first run ffprobe,
    which the imageio-ffmpeg wheel does not ship (or, given `codec=`, force a decoder chosen from the
    suffix, which is wrong for e.g. Opus in .ogg); parsing a WAV never runs ffprobe. ffmpeg's `-ac 2`
    duplicates mono and downmixes surround with its standard matrix.
    """
    configure_pydub()
    from pydub import AudioSegment

    command = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
        "-i", str(path), "-map", "0:a:0", "-vn", "-t", f"{max_s:g}",
        "-ac", "2", "-c:a", "pcm_s16le", "-f", "wav", "-",
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AudioError(f"ffmpeg could not read background file {name!r} ({exc})") from None
    if result.returncode != 0 or len(result.stdout) <= 44:
        reason = result.stderr.decode(errors="replace").strip().splitlines()
        detail = reason[-1].replace(str(path), "").strip(" :") if reason else "no audio stream"
        raise AudioError(
            f"background file {name!r} is not a sound file ffmpeg can decode",
            f"use a WAV, MP3, OGG or FLAC file (ffmpeg: {detail})",
        )
    segment = AudioSegment.from_wav(io.BytesIO(result.stdout))
    del result
    samples = np.frombuffer(segment.raw_data, dtype="<i2").reshape(-1, segment.channels)
    if len(samples) == 0:
        raise AudioError(f"background file {name!r} contains no audio", "use a WAV, MP3, OGG or FLAC file")
    audio = samples.astype(np.float32)
    audio *= np.float32(1.0 / 32768.0)
    return audio, segment.frame_rate


class FileBed:
    """A sound file as an endless bed: the whole file, looped at its end with an equal-power crossfade
    into its head, with memory that stays flat however long the file is.

    The file is decoded once, in blocks, by ffmpeg (resampled to the track's rate, stereo, 16-bit) into
    an unlinked spool file; `render` reads the frames it needs from it with `os.pread` (the page cache
    holds them, not the process). Only the crossfade (2 s) is kept in memory. The loop is the file
    without its first X frames (X = the crossfade), whose last X frames are the equal-power crossfade
    (cos/sin) from the file's tail into its head: the loop's last frame is followed by frame X of the
    file, exactly where the head's fade-in ended, so there is no jump at the seam.

    `max_frames` (the track's length) stops decoding once the track's frames and the crossfade are in:
    a 5-minute track over an hour-long recording decodes 5 minutes of it.
    """

    def __init__(self, path: Path, sample_rate: int, max_frames: int | None = None):
        self.path = path
        self.sample_rate = sample_rate
        self.gain = 1.0
        fade_max = round(FILE_BED_CROSSFADE_S * sample_rate)
        limit = None if max_frames is None else max_frames + 2 * fade_max + sample_rate
        self._spool = tempfile.TemporaryFile(prefix="attune-bed-")  # noqa: SIM115 - kept open for the bed's life; closed by close()
        head = bytearray()
        frames = 0
        command = [
            ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
            "-i", str(path), "-map", "0:a:0", "-vn", "-ac", "2", "-ar", str(sample_rate),
            "-f", "s16le", "-c:a", "pcm_s16le", "-",
        ]  # fmt: skip
        try:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise AudioError(f"ffmpeg could not read background file {path.name!r} ({exc})") from None
        assert process.stdout is not None and process.stderr is not None
        try:
            carry = b""
            while limit is None or frames < limit:
                chunk = process.stdout.read(_READ_BYTES)
                if not chunk:
                    break
                chunk = carry + chunk
                whole = len(chunk) - len(chunk) % _FRAME_BYTES
                chunk, carry = chunk[:whole], chunk[whole:]
                if len(head) < fade_max * _FRAME_BYTES:
                    head += chunk[: fade_max * _FRAME_BYTES - len(head)]
                self._spool.write(chunk)
                frames += whole // _FRAME_BYTES
        finally:
            process.stdout.close()
            stopped_early = limit is not None and frames >= limit
            if stopped_early:
                process.kill()
            error = process.stderr.read().decode(errors="replace")
            process.stderr.close()
            code = process.wait()
        if (code != 0 and not stopped_early) or frames == 0:
            reason = error.strip().splitlines()
            detail = reason[-1].replace(str(path), "").strip(" :") if reason else "no audio stream"
            self.close()
            raise AudioError(f"background file {path.name!r} is not a sound file ffmpeg can decode", f"use a WAV, MP3, OGG or FLAC file (ffmpeg: {detail})")
        if frames < FILE_BED_MIN_S * sample_rate:
            self.close()
            raise AudioError(f"background file {path.name!r} is only {frames / sample_rate:.2f} s long", f"use a sound of at least {FILE_BED_MIN_S:g} s")
        self._spool.flush()
        self._fd = self._spool.fileno()
        self.n_file_frames = frames
        fade = min(fade_max, frames // 4)
        self.fade_frames = fade
        t = (np.arange(fade, dtype=np.float64) + 0.5) / fade
        head_audio = _pcm(bytes(head[: fade * _FRAME_BYTES]))
        tail_audio = self._read_file(frames - fade, fade)
        self._seam = (tail_audio * np.cos(0.5 * np.pi * t)[:, None] + head_audio * np.sin(0.5 * np.pi * t)[:, None]).astype(np.float32)
        #: The loop: file frames X .. N-1, its last X frames being the seam.
        self.loop_length = frames - fade

    @property
    def loop_frames(self) -> tuple[int, ...]:
        return (self.loop_length,)

    @property
    def period_frames(self) -> int:
        return self.loop_length

    def _read_file(self, first: int, n: int) -> np.ndarray:
        data = os.pread(self._spool.fileno(), n * _FRAME_BYTES, first * _FRAME_BYTES)
        return _pcm(data)

    def render(self, start_frame: int, n_frames: int) -> np.ndarray:
        """Frames start_frame .. start_frame + n_frames - 1 of the endless loop, (n, 2) float32, a new array."""
        start_frame, n_frames = int(start_frame), int(n_frames)
        if n_frames < 0:
            raise ValueError(f"render needs n_frames >= 0, got {n_frames}")
        out = np.empty((n_frames, 2), dtype=np.float32)
        length, fade = self.loop_length, self.fade_frames
        body = length - fade  # loop frames before the seam, read from the spool
        done, offset = 0, start_frame % length
        while done < n_frames:
            if offset < body:
                take = min(n_frames - done, body - offset)
                out[done : done + take] = self._read_file(fade + offset, take)
            else:
                take = min(n_frames - done, length - offset)
                out[done : done + take] = self._seam[offset - body : offset - body + take]
            done += take
            offset = (offset + take) % length
        if self.gain != 1.0:
            out *= np.float32(self.gain)
        return out

    def blocks(self, n_frames: int, block_frames: int = 1 << 16):
        """The loop's first `n_frames` frames, block by block (unscaled): for measuring it."""
        saved, self.gain = self.gain, 1.0
        try:
            for start in range(0, n_frames, block_frames):
                yield self.render(start, min(block_frames, n_frames - start))
        finally:
            self.gain = saved

    def close(self) -> None:
        self._spool.close()


_FRAME_BYTES = 4  # stereo 16-bit
_READ_BYTES = 1 << 20


def _pcm(data: bytes) -> np.ndarray:
    samples = np.frombuffer(data, dtype="<i2").reshape(-1, 2)
    audio = samples.astype(np.float32)
    audio *= np.float32(1.0 / 32768.0)
    return audio
