"""attune.delivery.batch: a roster rendered into DIR, safely, one track's failure isolated (with a fake renderer)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import feedparser
import pytest
from mutagen.id3 import ID3

from attune.delivery.batch import BatchReport, TrackOutcome, format_summary
from attune.errors import OutputError, ScriptError, SettingsError
from helpers.batch import make_project, run, sha256


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
        "ana.zip",
        "ana/01-loving-kindness.mp3",
        "ana/01-loving-kindness.vtt",
        "ana/02-evening-scan.mp3",
        "ana/02-evening-scan.vtt",
        "ana/cover.png",
        "ana/feed.xml",
        "ana/index.html",
        "manifest.json",
        "script-alert-1-script.zip",
        "script-alert-1-script/02-loving-kindness.mp3",
        "script-alert-1-script/02-loving-kindness.vtt",
        "script-alert-1-script/cover.png",
        "script-alert-1-script/feed.xml",
        "script-alert-1-script/index.html",
        "x.zip",
        "x/01-loving-kindness.mp3",
        "x/01-loving-kindness.vtt",
        "x/cover.png",
        "x/feed.xml",
        "x/index.html",
    ]
    # Nothing escaped DIR: the project folder holds only what the test wrote (plus the call log).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project"]
    assert sorted(p.name for p in roster.parent.iterdir()) == ["cover.png", "roster.yaml", "scripts"]

    manifest = json.loads(report.manifest_path.read_text())
    assert report.manifest_path == out.resolve() / "manifest.json"
    assert [t["files"]["mp3"]["path"] for t in manifest["tracks"]] == [
        "ana/01-loving-kindness.mp3",
        "ana/02-evening-scan.mp3",
        "x/01-loving-kindness.mp3",
        "script-alert-1-script/02-loving-kindness.mp3",
    ]
    for track in manifest["tracks"]:
        for _kind, info in track["files"].items():
            path = out / info["path"]
            assert info["bytes"] == path.stat().st_size and info["sha256"] == sha256(path)
        assert track["files"]["mp3"]["duration_s"] == pytest.approx(track["length_s"], abs=0.001)
        assert track["fingerprint"] and track["rendered_at"].endswith("+00:00")
    first = manifest["tracks"][0]
    assert (first["client"], first["script"], first["length_s"], first["voice"], first["title"]) == (
        "Ana",
        "scripts/loving-kindness.txt",
        1.0,
        None,
        "Loving kindness",
    )

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


def test_outcome_fields():
    outcome = TrackOutcome(client="A", track="01-x", ok=False, skipped=False, error="e", audio=None)
    report = BatchReport([outcome], Path("m.json"), Path("out"), base_url="https://x/", clients=1)
    assert report.failures == [outcome]
    assert format_summary(report) == "failed: A / 01-x: e\n1 track for 1 client: 0 rendered, 0 unchanged, 1 failed → out"


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
