"""A batch project for the delivery tests: a fake renderer (real MP3 files, real tags, a real Plan and outputs), a roster, scripts."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import struct
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

from attune.delivery.batch import BatchOptions, BatchReport, run_batch
from attune.errors import LengthError, ScriptError
from attune.media.captions import Cue, write_vtt
from attune.media.tags import Chapter, write_tags
from attune.plan import Event, Plan
from attune.render import RenderResult, WrittenFile
from attune.system.atomic import atomic_path
from attune.system.ffmpeg import ffmpeg_exe
from attune.timebase import SAMPLE_RATE

_SILENCE: dict[float, bytes] = {}


#: A two-section script for batch renders with the real engine (locally and on a cluster).
SHORT_SCRIPT = """\
title: Short practice
sections:
  - name: Arriving
    text: |
      Welcome, {name}. [pause 2s..]
  - name: Closing
    text: |
      Thank you. [pause 1s]
"""


def silent_mp3(duration_s: float) -> bytes:
    """`duration_s` of silence as MP3 bytes (encoded once per process and duration).

    Encoded to a file, not a pipe, so that ffmpeg can fill in the Xing/LAME header (exact length).
    """
    if duration_s not in _SILENCE:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "silence.mp3"
            subprocess.run(
                [
                    ffmpeg_exe(),
                    "-v",
                    "error",
                    "-f",
                    "lavfi",
                    "-i",
                    "anullsrc=r=22050:cl=mono",
                    "-t",
                    str(duration_s),
                    "-c:a",
                    "libmp3lame",
                    "-b:a",
                    "32k",
                    str(out),
                ],
                check=True,
                capture_output=True,
                timeout=30,
            )
            _SILENCE[duration_s] = out.read_bytes()
    return _SILENCE[duration_s]


def fake_render(request, *, cache_dir=None, progress=None):
    """Behaves like attune.render.render, from a toy script: `title: …` then lines of speech.

    `[bogus]` in the script is an unknown marker (ScriptError); `CRASH` raises a plain bug; `SLOW`
    takes 0.3 s while a file slow.flag is beside the script.
    Every call is logged to calls.log beside the script.
    """
    script = Path(request.script_path)
    with open(script.parent / "calls.log", "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {request.output_path} {cache_dir}\n")
    text = script.read_text(encoding="utf-8")
    lines = text.splitlines()
    if "[bogus]" in text:
        raise ScriptError(
            "unknown marker [bogus]", "use [pause 10s] or [breath]", path=str(script), line=1 + next(i for i, line in enumerate(lines) if "[bogus]" in line)
        )
    if "CRASH" in text:
        raise RuntimeError("the fake renderer broke")
    if "SLOW" in text and (script.parent / "slow.flag").exists():
        time.sleep(0.3)
    duration = request.settings.length_s or 1.0
    if duration > 60:
        raise LengthError(f"the script needs at least 1m, not {duration:g}s", "ask for a longer length")
    title = request.title or lines[0].removeprefix("title:").strip()
    spoken = [line.format(**request.settings.vars) for line in lines[1:] if line.strip()]
    if any(name != "mp3" for name in request.settings.formats or ()):
        raise NotImplementedError("the fake renderer writes MP3 only: render other formats with the real engine")
    output = Path(request.output_path)
    vtt = output.with_suffix(".vtt")
    with atomic_path(output) as tmp_mp3, atomic_path(vtt) as tmp_vtt:
        tmp_mp3.write_bytes(silent_mp3(duration))
        write_tags(
            tmp_mp3, title=title, artist=request.artist, album=request.album, track=request.track, cover=request.cover, chapters=[Chapter("All", 0.0, duration)]
        )
        step = duration / max(1, len(spoken))
        write_vtt(tmp_vtt, [Cue(i * step, (i + 1) * step, line) for i, line in enumerate(spoken)])
    values = dict(
        output_path=output,
        captions_path=vtt,
        duration_s=duration,
        title=title,
        description=f"About {lines[0].removeprefix('title:').strip()}",
        artist=request.artist,
        voice_id=request.settings.voice or "gmw/en-us",
        transcript="\n\n".join(spoken),
        plan=_one_section_plan(duration, spoken),
        voice_lufs=-16.0,
        track_lufs=-17.5,
        true_peak_dbtp=-2.0,
        limiter_reduction_db=0.0,
        limited_s=0.0,
        synthesized=0,
        outputs=(WrittenFile(output, "mp3", title, duration, -16.0, -17.5, -2.0, 0.0, 0.0, 1),),
        sections=(),
        playlists=(),
        warnings=(),
        notes=(),
    )
    return RenderResult(**{f.name: values[f.name] for f in dataclasses.fields(RenderResult)})


def _one_section_plan(duration_s: float, spoken: list[str]) -> Plan:
    """The plan of what the fake wrote: one section, "All", of one speech event (its chapter is in the tags too)."""
    n_frames = round(duration_s * SAMPLE_RATE)
    event = Event("speech", 0, n_frames, "All", text=" ".join(spoken))
    return Plan((event,), n_frames, duration_s, duration_s)


def fake_fingerprint(request) -> str:
    settings = dataclasses.asdict(request)
    settings.pop("output_path")
    settings["script_path"] = hashlib.sha256(Path(request.script_path).read_bytes()).hexdigest()
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


ROSTER = """\
practitioner: Dr. Rivera & <Partners>
title: Weekly practice
cover: cover.png
defaults: {length: 1s}
clients:
  - name: Ana
    tracks:
      - script: scripts/loving-kindness.txt
      - script: scripts/scan.txt
        length: 2s
        title: Evening <scan>
  - name: ../../x
    tracks:
      - script: scripts/loving-kindness.txt
  - name: <script>alert(1)</script>
    tracks:
      - script: scripts/missing.txt
      - script: scripts/loving-kindness.txt
"""


def make_project(tmp_path: Path, roster: str = ROSTER) -> Path:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    (project / "scripts" / "loving-kindness.txt").write_text("title: Loving kindness\nMay you be well, {name}.\nMay you be at ease.\n", encoding="utf-8")
    (project / "scripts" / "scan.txt").write_text("title: Body scan\nNotice the feet.\n", encoding="utf-8")
    (project / "cover.png").write_bytes(tiny_png())
    path = project / "roster.yaml"
    path.write_text(roster, encoding="utf-8")
    return path


def tiny_png() -> bytes:
    """A valid 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x7f\xa0\x90")) + chunk(b"IEND", b"")


def calls(roster: Path) -> list[str]:
    log = roster.parent / "scripts" / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def run(roster: Path, out: Path, *, progress=None, render_fn=fake_render, fingerprint_fn=fake_fingerprint, **options) -> BatchReport:
    """The batch with the fakes, in this process unless `jobs` says otherwise; `options` are `BatchOptions`."""
    if options.get("cluster") is None:
        options.setdefault("jobs", 1)
    return run_batch(roster, out, BatchOptions(**options), progress=progress, render_fn=render_fn, fingerprint_fn=fingerprint_fn)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def access_of(out: Path) -> dict[str, dict]:
    """The output folder's access.json, by client name."""
    return {c["name"]: c for c in json.loads((out / "access.json").read_text("utf-8"))["clients"]}


def public(out: Path, client: str) -> Path:
    """The client's published folder, DIR/public/<token>."""
    return out / "public" / access_of(out)[client]["token"]


def tracks(out: Path, client: str) -> Path:
    """The client's kept track folder, DIR/tracks/<id>."""
    return out / "tracks" / access_of(out)[client]["id"]


def published_names(out: Path) -> list[str]:
    """Every path under DIR/public, relative to it, sorted."""
    return sorted(p.relative_to(out / "public").as_posix() for p in (out / "public").rglob("*"))
