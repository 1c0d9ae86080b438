"""The formats Attune writes, as one table: container, codec, rate, bitrates, chapters, tags, MIME type.

Light to import (no numpy): settings, rosters and the CLI validate format names, suffixes and
bitrates against it. `outputs_for` turns `-o` and `--format` into the files a render writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import SettingsError


@dataclass(frozen=True)
class Format:
    """One output format. Bitrates in kbit/s; `bitrate_range_kbps` None for lossless formats."""

    name: str
    suffix: str
    description: str
    mime: str
    sample_rate: int
    default_bitrate: str | None
    bitrate_range_kbps: tuple[int, int] | None
    #: How chapters are stored: "id3" (CHAP + CTOC), "mp4" (QuickTime chapter track and Nero chpl,
    #: written by ffmpeg while encoding), "vorbis" (CHAPTERxxx comments), or None.
    chapters: str | None
    #: How tags are stored: "id3", "mp4", "vorbis", or None.
    tags: str | None
    #: The limiter's ceiling (dBTP, before the codec) that the first encode aims at: lossy codecs
    #: overshoot on limited audio (measured: LAME up to +0.7 dB, AAC and Opus up to +2 dB on dense
    #: limited material, +0.3 dB on speech). The file is measured after encoding either way.
    ceiling_dbtp: float

    @property
    def lossless(self) -> bool:
        return self.bitrate_range_kbps is None

    def bitrate(self, bitrate: str | None) -> str | None:
        """The bitrate to encode at: `bitrate` checked against this format's range, else the default.
        None for lossless formats, which refuse a bitrate."""
        if bitrate is None:
            return self.default_bitrate
        if self.bitrate_range_kbps is None:
            raise SettingsError(
                f"{self.name} is lossless and takes no bitrate (got {bitrate})", f"drop --bitrate, or use a lossy format such as mp3 for {self.name}"
            )
        low, high = self.bitrate_range_kbps
        match = re.fullmatch(r"(\d{1,3})k", str(bitrate).strip().lower())
        if not match or not low <= int(match.group(1)) <= high:
            raise SettingsError(f"bitrate {bitrate!r} is not valid for {self.name}", f"use {low}k to {high}k for {self.name}, such as {self.default_bitrate}")
        return match.group(0)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("mp3", ".mp3", "MP3 (LAME)", "audio/mpeg", 44100, "128k", (32, 320), "id3", "id3", -2.0),
        Format("m4a", ".m4a", "MP4 AAC-LC", "audio/mp4", 44100, "128k", (64, 256), "mp4", "mp4", -2.5),
        Format("m4b", ".m4b", "MP4 AAC-LC audiobook", "audio/mp4", 44100, "128k", (64, 256), "mp4", "mp4", -2.5),
        Format("opus", ".opus", "Ogg Opus", "audio/ogg", 48000, "64k", (24, 256), "vorbis", "vorbis", -2.5),
        Format("flac", ".flac", "FLAC, 16-bit (lossless master)", "audio/flac", 44100, None, None, "vorbis", "vorbis", -1.5),
        Format("wav", ".wav", "WAV, 16-bit", "audio/wav", 44100, None, None, None, None, -1.5),
    )
}
FORMAT_NAMES = tuple(FORMATS)
BY_SUFFIX = {f.suffix: f for f in FORMATS.values()}


def estimated_bytes(fmt: Format, bitrate: str | None, duration_s: float) -> int:
    """About what `duration_s` of audio takes in `fmt`: the bitrate's worth for lossy formats (Attune
    encodes at a constant or constrained rate), 16-bit stereo PCM for WAV, about 60% of it for FLAC."""
    pcm_bytes = fmt.sample_rate * 2 * 2 * duration_s
    if fmt.lossless:
        return int(pcm_bytes if fmt.name == "wav" else 0.6 * pcm_bytes)
    return int(int(str(bitrate or fmt.default_bitrate).lower().rstrip("k")) * 1000 / 8 * duration_s)


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise SettingsError(f"unknown format {name!r}", f"use one of: {', '.join(FORMAT_NAMES)}") from None


def parse_formats(values: str | Sequence[str]) -> tuple[str, ...]:
    """`mp3,m4a` or ("mp3", "m4a,opus") → ("mp3", "m4a", "opus"), each name checked, none twice."""
    parts = [values] if isinstance(values, str) else list(values)
    names = tuple(name.strip().lower() for part in parts for name in str(part).split(",") if name.strip())
    if not names:
        raise SettingsError("no format given", f"use one of: {', '.join(FORMAT_NAMES)}")
    for name in names:
        get_format(name)
    if len(set(names)) != len(names):
        raise SettingsError(f"format given twice in {','.join(names)}", "name each format once")
    return names


def outputs_for(output: Path | None, formats: Sequence[str] | None, default_stem: Path) -> list[tuple[Format, Path]]:
    """The files a render writes: one per format, sharing a stem.

    With `formats`, `output`'s suffix must be one of theirs (or absent); without, the suffix decides
    (`-o x.m4a` is M4A; no suffix is MP3). Default: `default_stem` (e.g. output/<script>) per format.
    """
    if output is not None:
        suffix = output.suffix.lower()
        implied = BY_SUFFIX.get(suffix)
        if suffix and implied is None and not formats:
            raise SettingsError(
                f"the output {output.name} has an unknown suffix {output.suffix!r}",
                f"use {', '.join(f.suffix for f in FORMATS.values())}, or pass --format",
                path=str(output),
            )
        stem = output.with_suffix("") if implied is not None else output
        if formats:
            chosen = [get_format(name) for name in formats]
            if implied is not None and implied not in chosen:
                names = ",".join(formats)
                raise SettingsError(
                    f"the output {output.name} is {implied.name}, but --format asks for {names}",
                    f"name the output {stem.name}{chosen[0].suffix}, or pass --format {implied.name}",
                    path=str(output),
                )
        else:
            chosen = [implied or FORMATS["mp3"]]
    else:
        stem = default_stem
        chosen = [get_format(name) for name in (formats or ("mp3",))]
    return [(fmt, stem.with_name(stem.name + fmt.suffix)) for fmt in chosen]
