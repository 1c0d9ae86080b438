"""The batch, with a fake renderer that writes real (tiny) MP3s: layout, safety, isolation, re-runs, jobs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import feedparser
import pytest
from mutagen.id3 import ID3

from attune.delivery.batch import BatchReport, TrackOutcome, format_summary, run_batch
from attune.errors import AttuneError, LengthError, OutputError, ScriptError, SettingsError
from attune.media.captions import Cue, write_vtt
from attune.media.tags import Chapter, write_tags
from attune.render import RenderResult
from attune.system.atomic import atomic_path
from attune.system.ffmpeg import ffmpeg_exe

_SILENCE: dict[float, bytes] = {}


def silent_mp3(duration_s: float) -> bytes:
    """`duration_s` of silence as MP3 bytes (encoded once per process and duration).

    Encoded to a file, not a pipe, so that ffmpeg can fill in the Xing/LAME header (exact length).
    """
    if duration_s not in _SILENCE:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "silence.mp3"
            subprocess.run(
                [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", str(duration_s),
                 "-c:a", "libmp3lame", "-b:a", "32k", str(out)],
                check=True, capture_output=True, timeout=30,
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
        raise ScriptError("unknown marker [bogus]", "use [pause 10s] or [breath]", path=str(script), line=1 + next(i for i, line in enumerate(lines) if "[bogus]" in line))
    if "CRASH" in text:
        raise RuntimeError("the fake renderer broke")
    if "SLOW" in text and (script.parent / "slow.flag").exists():
        time.sleep(0.3)
    duration = request.settings.length_s or 1.0
    if duration > 60:
        raise LengthError(f"the script needs at least 1m, not {duration:g}s", "ask for a longer length")
    title = lines[0].removeprefix("title:").strip()
    spoken = [line.format(**request.settings.vars) for line in lines[1:] if line.strip()]
    output = Path(request.output_path)
    vtt = output.with_suffix(".vtt")
    with atomic_path(output) as tmp_mp3, atomic_path(vtt) as tmp_vtt:
        tmp_mp3.write_bytes(silent_mp3(duration))
        write_tags(tmp_mp3, title=title, artist=request.artist, album=request.album, track=request.track,
                   cover=request.cover, chapters=[Chapter("All", 0.0, duration)])
        step = duration / max(1, len(spoken))
        write_vtt(tmp_vtt, [Cue(i * step, (i + 1) * step, line) for i, line in enumerate(spoken)])
    values = dict(output_path=output, captions_path=vtt, duration_s=duration, title=title, description=f"About {title}",
                  artist=request.artist, voice_id=request.settings.voice or "gmw/en-us", transcript="\n\n".join(spoken),
                  plan=None, voice_lufs=-16.0, track_lufs=-17.5, true_peak_dbtp=-2.0,
                  limiter_reduction_db=0.0, limited_s=0.0, synthesized=0)
    return RenderResult(**{f.name: values[f.name] for f in dataclasses.fields(RenderResult)})


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


def run(roster: Path, out: Path, **kwargs) -> BatchReport:
    kwargs.setdefault("jobs", 1)
    return run_batch(roster, out, render_fn=fake_render, fingerprint_fn=fake_fingerprint, **kwargs)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_layout_manifest_and_safety(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    seen = []
    report = run(roster, out, progress=lambda done, total: seen.append((done, total)))

    assert [(o.client, o.track, o.ok, o.skipped) for o in report.outcomes] == [
        ("Ana", "01-loving-kindness", True, False),
        ("Ana", "02-evening-scan", True, False),
        ("../../x", "01-loving-kindness", True, False),
        ("<script>alert(1)</script>", "01-missing", False, False),
        ("<script>alert(1)</script>", "02-loving-kindness", True, False),
    ]
    assert sorted(seen) == [(n, 5) for n in range(1, 6)]
    names = sorted(p.relative_to(out).as_posix() for p in all_files(out))
    assert names == [
        "ana.zip", "ana/01-loving-kindness.mp3", "ana/01-loving-kindness.vtt", "ana/02-evening-scan.mp3", "ana/02-evening-scan.vtt",
        "ana/cover.png", "ana/feed.xml", "ana/index.html",
        "manifest.json",
        "script-alert-1-script.zip", "script-alert-1-script/02-loving-kindness.mp3", "script-alert-1-script/02-loving-kindness.vtt",
        "script-alert-1-script/cover.png", "script-alert-1-script/feed.xml", "script-alert-1-script/index.html",
        "x.zip", "x/01-loving-kindness.mp3", "x/01-loving-kindness.vtt", "x/cover.png", "x/feed.xml", "x/index.html",
    ]
    # Nothing escaped DIR: the project folder holds only what the test wrote (plus the call log).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project"]
    assert sorted(p.name for p in roster.parent.iterdir()) == ["cover.png", "roster.yaml", "scripts"]

    manifest = json.loads(report.manifest_path.read_text())
    assert report.manifest_path == out.resolve() / "manifest.json"
    assert [t["files"]["mp3"]["path"] for t in manifest["tracks"]] == [
        "ana/01-loving-kindness.mp3", "ana/02-evening-scan.mp3", "x/01-loving-kindness.mp3", "script-alert-1-script/02-loving-kindness.mp3"]
    for track in manifest["tracks"]:
        for _kind, info in track["files"].items():
            path = out / info["path"]
            assert info["bytes"] == path.stat().st_size and info["sha256"] == sha256(path)
        assert track["files"]["mp3"]["duration_s"] == pytest.approx(track["length_s"], abs=0.001)
        assert track["fingerprint"] and track["rendered_at"].endswith("+00:00")
    first = manifest["tracks"][0]
    assert (first["client"], first["script"], first["length_s"], first["voice"], first["title"]) == ("Ana", "scripts/loving-kindness.txt", 1.0, None, "Loving kindness")

    # Requests carry the practitioner, roster title, track n/total and cover; the title override is tagged.
    tag = ID3(out / "ana" / "02-evening-scan.mp3")
    assert tag["TIT2"].text == ["Evening <scan>"] and tag["TPE1"].text == ["Dr. Rivera & <Partners>"]
    assert tag["TALB"].text == ["Weekly practice"] and tag["TRCK"].text == ["2/2"] and tag.getall("APIC")
    assert ID3(out / "x" / "01-loving-kindness.mp3")["TRCK"].text == ["1/1"]
    assert "May you be well, Ana." in (out / "ana" / "01-loving-kindness.vtt").read_text()


def test_missing_script_fails_only_its_track_and_summary_names_it(tmp_path):
    roster = make_project(tmp_path)
    report = run(roster, tmp_path / "out")
    (failure,) = report.failures
    assert failure.client == "<script>alert(1)</script>" and failure.track == "01-missing"
    assert failure.error == f"{roster}:17: the script scripts/missing.txt does not exist — check the path: it is relative to the roster file"
    summary = format_summary(report)
    assert summary.splitlines() == [
        f"failed: <script>alert(1)</script> / 01-missing: {failure.error}",
        "note: the feeds link to file:// paths on this computer; pass --base-url to publish them",
        f"5 tracks for 3 clients: 4 rendered, 0 unchanged, 1 failed → {report.out_dir}",
    ]
    # The failing client's page, feed and zip list only the track that exists.
    slug_dir = tmp_path / "out" / "script-alert-1-script"
    assert "missing" not in (slug_dir / "index.html").read_text()
    assert len(feedparser.parse((slug_dir / "feed.xml").read_bytes()).entries) == 1


ISOLATION = """\
practitioner: Kim
clients:
  - name: Bo
    tracks:
      - script: scripts/bogus.txt
      - script: scripts/crash.txt
      - script: scripts/loving-kindness.txt
        length: 5m
      - script: scripts/loving-kindness.txt
"""


def test_every_kind_of_track_failure_is_isolated(tmp_path):
    roster = make_project(tmp_path, ISOLATION)
    (roster.parent / "scripts" / "bogus.txt").write_text("title: B\nSit.\n[bogus]\n")
    (roster.parent / "scripts" / "crash.txt").write_text("title: C\nCRASH\n")
    report = run(roster, tmp_path / "out")
    assert [o.error for o in report.outcomes] == [
        f"{roster.parent / 'scripts' / 'bogus.txt'}:3: unknown marker [bogus] — use [pause 10s] or [breath]",
        "internal error: RuntimeError: the fake renderer broke",
        "the script needs at least 1m, not 300s — ask for a longer length",
        None,
    ]
    assert [o.ok for o in report.outcomes] == [False, False, False, True]
    manifest = json.loads(report.manifest_path.read_text())
    assert [t["track"] for t in manifest["tracks"]] == ["04-loving-kindness"]
    with zipfile.ZipFile(tmp_path / "out" / "bo.zip") as archive:
        assert archive.namelist() == ["bo/04-loving-kindness.mp3", "bo/04-loving-kindness.vtt", "bo/index.html"]
    assert format_summary(report).splitlines()[-1].startswith("4 tracks for 1 client: 1 rendered, 0 unchanged, 3 failed → ")


def test_rerun_skips_unchanged_tracks_and_force_renders_all(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out)
    assert len(calls(roster)) == 4
    feed_before = (out / "ana" / "feed.xml").read_bytes()
    page_before = (out / "ana" / "index.html").read_bytes()

    again = run(roster, out)
    assert len(calls(roster)) == 4
    assert [(o.ok, o.skipped) for o in again.outcomes] == [(True, True), (True, True), (True, True), (False, False), (True, True)]
    assert (out / "ana" / "feed.xml").read_bytes() == feed_before and (out / "ana" / "index.html").read_bytes() == page_before
    assert format_summary(again).splitlines()[-1].startswith("5 tracks for 3 clients: 0 rendered, 4 unchanged, 1 failed")

    # Editing a script re-renders the tracks that use it; a damaged file is rendered again too.
    (roster.parent / "scripts" / "scan.txt").write_text("title: Body scan\nNotice the knees.\n")
    with open(out / "x" / "01-loving-kindness.mp3", "ab") as handle:
        handle.write(b"\0")
    third = run(roster, out)
    assert [o.skipped for o in third.outcomes if o.ok] == [True, False, False, True]
    assert len(calls(roster)) == 6

    forced = run(roster, out, force=True)
    assert [o.skipped for o in forced.outcomes] == [False] * 5
    assert len(calls(roster)) == 10


def test_guid_and_pub_date_are_stable_across_renders(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out, base_url="https://example.org/p/")
    first = feedparser.parse((out / "ana" / "feed.xml").read_bytes())
    run(roster, out, base_url="https://example.org/p/", force=True)
    second = feedparser.parse((out / "ana" / "feed.xml").read_bytes())
    assert [e.id for e in first.entries] == [e.id for e in second.entries] == ["attune:ana/01-loving-kindness.mp3", "attune:ana/02-evening-scan.mp3"]


def test_jobs_2_renders_in_worker_processes(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    seen = []
    report = run(roster, out, jobs=2, progress=lambda done, total: seen.append(done))
    assert [o.ok for o in report.outcomes] == [True, True, True, False, True]
    assert seen == [1, 2, 3, 4, 5]
    manifest = json.loads(report.manifest_path.read_text())
    assert len(manifest["tracks"]) == 4
    for track in manifest["tracks"]:
        mp3 = track["files"]["mp3"]
        assert sha256(out / mp3["path"]) == mp3["sha256"]
    pids = {line.split()[0] for line in calls(roster)}
    assert str(os.getpid()) not in pids and 1 <= len(pids) <= 2


def test_pool_gets_the_longest_tracks_first(tmp_path, monkeypatch):
    import attune.delivery.batch as batch

    roster = make_project(tmp_path, ROSTER.replace("length: 2s", "length: 3s").replace(
        "      - script: scripts/missing.txt\n", "      - script: scripts/scan.txt\n        length: 2s\n"))
    submitted = []
    real_pool = batch.run_pool

    def recording_pool(pending, workers, record):
        submitted.extend(job.request.settings.length_s for _, job in pending)
        real_pool(pending, workers, record)

    monkeypatch.setattr(batch, "run_pool", recording_pool)
    report = run(roster, tmp_path / "out", jobs=2)
    assert all(o.ok for o in report.outcomes)
    assert submitted == [3.0, 2.0, 1.0, 1.0, 1.0]  # ties keep roster order
    assert [o.track for o in report.outcomes][:2] == ["01-loving-kindness", "02-evening-scan"]  # reported in roster order


def test_workers_use_the_callers_cache_dir_of_now(tmp_path, monkeypatch):
    # Workers fork from a server started by an earlier batch, with that moment's environment:
    # the cache folder must come from the caller, now.
    roster = make_project(tmp_path)
    for name in ("first", "second"):
        monkeypatch.setenv("ATTUNE_CACHE_DIR", str(tmp_path / name))
        run(roster, tmp_path / "out", jobs=2, force=True)
        assert {line.split()[2] for line in calls(roster)} == {str(tmp_path / name)}
        (roster.parent / "scripts" / "calls.log").unlink()


def test_workers_that_cannot_start_are_one_clear_error(tmp_path, monkeypatch):
    import concurrent.futures

    def broken_submit(self, fn, *args, **kwargs):
        raise EOFError("unexpected EOF")  # what a dead forkserver gives

    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", broken_submit)
    roster = make_project(tmp_path)
    with pytest.raises(AttuneError) as err:
        run(roster, tmp_path / "out", jobs=2)
    assert str(err.value) == "could not start 2 worker processes (EOFError: unexpected EOF) — render with --jobs 1, and run `attune doctor`"
    assert not list((tmp_path / "out").rglob("*.mp3")) and not list((tmp_path / "out").rglob(".*.part"))


def test_workers_fork_from_a_preloaded_server_where_possible():
    from attune.delivery import pool

    context = pool.pool_context()
    if sys.platform.startswith("linux"):
        assert context.get_start_method() == "forkserver"
        assert pool.WORKER_PRELOAD == ["attune.delivery.preload"]
    else:
        assert context.get_start_method() in ("forkserver", "spawn")


def test_zip_contents(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out)
    with zipfile.ZipFile(out / "ana.zip") as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [
            "ana/01-loving-kindness.mp3", "ana/01-loving-kindness.vtt", "ana/02-evening-scan.mp3", "ana/02-evening-scan.vtt",
            "ana/index.html", "ana/cover.png"]
        for name in archive.namelist():
            assert archive.read(name) == (out / name).read_bytes()
        assert archive.getinfo("ana/01-loving-kindness.mp3").compress_type == zipfile.ZIP_STORED
        assert archive.getinfo("ana/index.html").compress_type == zipfile.ZIP_DEFLATED


def test_outputs_never_leave_dir(tmp_path):
    """A client folder that is a symlink to somewhere else is refused before anything is written there."""
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "ana")
    with pytest.raises(OutputError) as err:
        run(roster, out)
    assert "is outside" in str(err.value)
    assert list(elsewhere.iterdir()) == []


def test_bad_settings_fail_before_any_work(tmp_path):
    roster = make_project(tmp_path)
    with pytest.raises(SettingsError) as err:
        run(roster, tmp_path / "out", base_url="ftp://example.org")
    assert str(err.value) == "--base-url 'ftp://example.org' is not an http(s) address — write it like https://example.com/practice/"
    with pytest.raises(SettingsError):
        run(roster, tmp_path / "out", jobs=0)
    assert not (tmp_path / "out").exists()
    with pytest.raises(ScriptError):
        run(tmp_path / "nope.yaml", tmp_path / "out")


def test_default_fingerprint_is_the_renderers(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run_batch(roster, out, jobs=1, render_fn=fake_render)
    again = run_batch(roster, out, jobs=1, render_fn=fake_render)
    assert [o.skipped for o in again.outcomes if o.ok] == [True] * 4


def test_outcome_fields():
    outcome = TrackOutcome(client="A", track="01-x", ok=False, skipped=False, error="e", audio=None)
    report = BatchReport([outcome], Path("m.json"), Path("out"), base_url="https://x/", clients=1)
    assert report.failures == [outcome]
    assert format_summary(report) == "failed: A / 01-x: e\n1 track for 1 client: 0 rendered, 0 unchanged, 1 failed → out"


def test_every_feed_parses_with_exact_sizes_and_durations(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    report = run(roster, out, base_url="https://example.org/private/p q")
    assert "file://" not in format_summary(report)
    manifest = {t["files"]["mp3"]["path"]: t for t in json.loads(report.manifest_path.read_text())["tracks"]}
    feeds = sorted(out.glob("*/feed.xml"))
    assert len(feeds) == 3
    for feed_path in feeds:
        slug = feed_path.parent.name
        parsed = feedparser.parse(feed_path.read_bytes())
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.feed.itunes_block == 1
        assert parsed.feed.author == "Dr. Rivera & <Partners>"
        assert parsed.feed.link == f"https://example.org/private/p%20q/{slug}/index.html"
        assert parsed.feed.image.href == f"https://example.org/private/p%20q/{slug}/cover.png"
        assert [link.href for link in parsed.feed.links if link.rel == "self"] == [f"https://example.org/private/p%20q/{slug}/feed.xml"]
        assert b"<script>" not in feed_path.read_bytes()
        for entry in parsed.entries:
            (enclosure,) = entry.enclosures
            prefix = "https://example.org/private/p%20q/"
            assert enclosure.href.startswith(prefix) and enclosure.type == "audio/mpeg"
            relative = enclosure.href[len(prefix):]
            track = manifest[relative]
            assert int(enclosure.length) == (out / relative).stat().st_size
            seconds = round(track["files"]["mp3"]["duration_s"])
            assert entry.itunes_duration == f"00:00:{seconds:02d}"
            assert entry.id == f"attune:{relative}" and entry.guidislink is False
            assert entry.podcast_transcript["url"] == prefix + relative.replace(".mp3", ".vtt")
            assert entry.published_parsed[:6] == datetime.fromisoformat(track["rendered_at"]).utctimetuple()[:6]
    client = feedparser.parse((out / "script-alert-1-script" / "feed.xml").read_bytes())
    assert client.feed.title == "Weekly practice · <script>alert(1)</script>"


def test_feeds_without_base_url_use_file_urls(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    report = run(roster, out)
    parsed = feedparser.parse((out / "ana" / "feed.xml").read_bytes())
    href = parsed.entries[0].enclosures[0].href
    assert href == (out.resolve() / "ana" / "01-loving-kindness.mp3").as_uri()
    assert "note: the feeds link to file:// paths" in format_summary(report)


def test_pages_list_one_audio_per_existing_track(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out)
    ana = (out / "ana" / "index.html").read_text()
    assert ana.count("<audio ") == 2 and 'src="01-loving-kindness.mp3"' in ana and 'src="02-evening-scan.mp3"' in ana
    assert "Evening &lt;scan&gt;" in ana and "Dr. Rivera &amp; &lt;Partners&gt;" in ana
    assert str(out) not in ana and str(tmp_path) not in ana
    hostile = (out / "script-alert-1-script" / "index.html").read_text()
    assert hostile.count("<audio ") == 1 and "<script>" not in hostile and "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile


def test_interrupt_cancels_queued_work_and_keeps_finished_tracks(tmp_path):
    tracks = "".join(f"      - {{script: scripts/slow.txt, title: Slow {n}}}\n" for n in range(8))
    roster = make_project(tmp_path, f"practitioner: Kim\nclients:\n  - name: Bo\n    tracks:\n{tracks}")
    (roster.parent / "scripts" / "slow.txt").write_text("title: Slow\nSLOW\n")
    (roster.parent / "scripts" / "slow.flag").touch()
    out = tmp_path / "out"

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(roster, out, jobs=2, progress=interrupt)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["tracks"]) == 1  # the track that finished is recorded
    # The tracks already handed to the two workers finish on their own; wait for that (bounded).
    deadline, seen, quiet = time.monotonic() + 15, -1, 0
    while time.monotonic() < deadline and quiet < 3:
        now = len(calls(roster))
        quiet = quiet + 1 if now == seen and not list(out.rglob("*.part")) else 0
        seen = now
        time.sleep(0.25)
    assert len(calls(roster)) < 8  # queued tracks were cancelled, never rendered
    (roster.parent / "scripts" / "slow.flag").unlink()
    again = run(roster, out)
    assert sum(o.skipped for o in again.outcomes) >= 1 and all(o.ok for o in again.outcomes)


def test_interrupt_inline_keeps_finished_tracks(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    seen = []

    def interrupt_after_two(done, total):
        seen.append(done)
        if done == 3:  # the missing script counts first, then two rendered tracks
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(roster, out, progress=interrupt_after_two)
    assert len(json.loads((out / "manifest.json").read_text())["tracks"]) == 2
    assert not list(out.rglob("*.part")) and not (out / "ana.zip").exists()


def test_damaged_manifest_means_render_again(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out)
    (out / "manifest.json").write_text("{not json")
    again = run(roster, out)
    assert [o.skipped for o in again.outcomes if o.ok] == [False] * 4
    tampered = json.loads((out / "manifest.json").read_text())
    tampered["tracks"][0]["files"]["mp3"]["path"] = "../../etc/passwd"
    (out / "manifest.json").write_text(json.dumps(tampered))
    third = run(roster, out)
    assert [o.skipped for o in third.outcomes if o.ok] == [False, True, True, True]
