"""attune.delivery.batch: a roster rendered into DIR, safely, one track's failure isolated, each client
published behind their own token (with a fake renderer that writes real, tagged MP3s)."""

from __future__ import annotations

import json
import os
import re
import stat
import zipfile
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from attune.delivery.batch import BatchReport, TrackOutcome, format_summary
from attune.errors import Interrupted, OutputError, ScriptError, SettingsError
from helpers.batch import access_of, calls, make_project, public, published_names, run, sha256, tracks

TOKEN = re.compile(r"[A-Za-z0-9_-]{22,}")
HOSTILE = "<script>alert(1)</script>"


def test_what_is_kept_and_what_is_published(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    report = run(roster, out, base_url="https://example.org/p/")
    assert [(o.client, o.track, o.ok, o.skipped) for o in report.outcomes] == [
        ("Ana", "01-loving-kindness", True, False),
        ("Ana", "02-evening-scan", True, False),
        ("../../x", "01-loving-kindness", True, False),
        (HOSTILE, "01-missing", False, False),
        (HOSTILE, "02-loving-kindness", True, False),
    ]
    assert sorted(p.name for p in out.iterdir()) == ["access.json", "links.csv", "manifest.json", "public", "tracks"]
    # Everything published names no client, and every folder is a token.
    names = published_names(out)
    tokens = {name.split("/")[0] for name in names if "/" in name}
    assert len(tokens) == 3 and all(TOKEN.fullmatch(t) for t in tokens)
    assert "robots.txt" in names and (out / "public" / "robots.txt").read_text() == "User-agent: *\nDisallow: /\n"
    # A host that lists folders shows this empty page instead of the tokens.
    assert "index.html" in names and not any(t in (out / "public" / "index.html").read_text() for t in tokens)
    for name in names:
        # The token folder is random (it may spell "ana" by chance): only what follows it must name no client.
        lowered = name.split("/", 1)[-1].lower()
        assert not any(word in lowered for word in ("ana", "script", "alert", "x/", "manifest", "access", "links")), name
    assert sorted(n.split("/", 1)[1] for n in names if n.startswith(access_of(out)["Ana"]["token"] + "/")) == [
        "01-loving-kindness.chapters.json", "01-loving-kindness.mp3", "01-loving-kindness.vtt",
        "02-evening-scan.chapters.json", "02-evening-scan.mp3", "02-evening-scan.vtt",
        "cover.png", "feed.xml", "index.html", "practice.zip",
    ]  # fmt: skip
    # Nothing escaped DIR: the project folder holds only what the test wrote (plus the call log).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project"]
    assert sorted(p.name for p in roster.parent.iterdir()) == ["cover.png", "roster.yaml", "scripts"]

    manifest = json.loads(report.manifest_path.read_text())
    assert report.manifest_path == out.resolve() / "manifest.json"
    ana, x = access_of(out)["Ana"], access_of(out)["../../x"]
    assert [t["files"]["mp3"]["path"] for t in manifest["tracks"]][:3] == [
        f"tracks/{ana['id']}/01-loving-kindness.mp3",
        f"tracks/{ana['id']}/02-evening-scan.mp3",
        f"tracks/{x['id']}/01-loving-kindness.mp3",
    ]
    for track in manifest["tracks"]:
        for info in track["files"].values():
            path = out / info["path"]
            assert info["bytes"] == path.stat().st_size and info["sha256"] == sha256(path)
        assert track["files"]["mp3"]["duration_s"] == pytest.approx(track["length_s"], abs=0.001)
        assert track["fingerprint"] and track["rendered_at"].endswith("+00:00")
    # The published tracks are the kept ones (linked, not copied).
    kept, published = tracks(out, "Ana") / "01-loving-kindness.mp3", public(out, "Ana") / "01-loving-kindness.mp3"
    assert kept.read_bytes() == published.read_bytes() and os.stat(kept).st_ino == os.stat(published).st_ino

    # Requests carry the practitioner, roster title, track n/total and cover; the title override is tagged.
    tag = ID3(public(out, "Ana") / "02-evening-scan.mp3")
    assert tag["TIT2"].text == ["Evening <scan>"] and tag["TPE1"].text == ["Dr. Rivera & <Partners>"]
    assert tag["TALB"].text == ["Weekly practice"] and tag["TRCK"].text == ["2/2"] and tag.getall("APIC")
    assert "May you be well, Ana." in (public(out, "Ana") / "01-loving-kindness.vtt").read_text()

    # access.json is for the practitioner's eyes only; links.csv has what to send.
    assert stat.S_IMODE((out / "access.json").stat().st_mode) == 0o600
    assert all(entry["state"] == "active" and len(entry["token"]) >= 22 for entry in access_of(out).values())
    rows = (out / "links.csv").read_text().splitlines()
    assert rows[0] == "client,state,page,feed"
    assert rows[1] == f"Ana,active,https://example.org/p/{ana['token']}/index.html,https://example.org/p/{ana['token']}/feed.xml"


def test_missing_script_fails_only_its_track_and_summary_names_it(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    report = run(roster, out)
    (failure,) = report.failures
    assert failure.client == HOSTILE and failure.track == "01-missing"
    assert failure.error == f"{roster}:17: the script scripts/missing.txt does not exist — check the path: it is relative to the roster file"
    assert format_summary(report).splitlines() == [
        f"failed: {HOSTILE} / 01-missing: {failure.error}",
        f"published 3 clients under {report.out_dir / 'public'}; links to send: {report.out_dir / 'links.csv'}",
        "note: without --base-url the links are paths on this computer; pass --base-url to publish them",
        f"5 tracks for 3 clients: 4 rendered, 0 unchanged, 1 failed → {report.out_dir}",
    ]
    # The failing client's page, feed and zip list only the track that exists.
    folder = public(out, HOSTILE)
    assert "missing" not in (folder / "index.html").read_text()
    assert (folder / "feed.xml").read_text().count("<item>") == 1


def test_a_client_with_no_good_track_is_not_published_and_is_named(tmp_path):
    roster = make_project(
        tmp_path,
        "practitioner: Kim\nclients:\n  - name: Bo\n    tracks:\n      - script: scripts/missing.txt\n"
        "  - name: Cy\n    tracks:\n      - script: scripts/scan.txt\n",
    )
    out = tmp_path / "out"
    report = run(roster, out)
    assert report.published == ["Cy"] and report.nothing_ready == ["Bo"]
    assert "not published: Bo — no recording is ready (see the failures above)" in format_summary(report)
    assert not public(out, "Bo").exists() and not tracks(out, "Bo").exists()
    assert "Bo,not published yet,," in (out / "links.csv").read_text()


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
    out = tmp_path / "out"
    report = run(roster, out)
    assert [o.error for o in report.outcomes] == [
        f"{roster.parent / 'scripts' / 'bogus.txt'}:3: unknown marker [bogus] — use [pause 10s] or [breath]",
        "internal error: RuntimeError: the fake renderer broke",
        "the script needs at least 1m, not 300s — ask for a longer length",
        None,
    ]
    assert [o.ok for o in report.outcomes] == [False, False, False, True]
    manifest = json.loads(report.manifest_path.read_text())
    assert [t["track"] for t in manifest["tracks"]] == ["04-loving-kindness"]
    with zipfile.ZipFile(public(out, "Bo") / "practice.zip") as archive:
        # The roster names no cover: the generated one is in the zip.
        assert archive.namelist() == ["practice/index.html", "practice/04-loving-kindness.chapters.json", "practice/04-loving-kindness.mp3",
                                      "practice/04-loving-kindness.vtt", "practice/cover.png"]  # fmt: skip
    assert format_summary(report).splitlines()[-1].startswith("4 tracks for 1 client: 1 rendered, 0 unchanged, 3 failed → ")


def test_two_clients_whose_names_look_alike_are_two_clients(tmp_path):
    roster = make_project(
        tmp_path,
        "practitioner: Kim\nclients:\n  - name: Ana\n    tracks: [{script: scripts/scan.txt}]\n  - name: ANA!\n    tracks: [{script: scripts/scan.txt}]\n",
    )
    out = tmp_path / "out"
    assert run(roster, out).published == ["Ana", "ANA!"]
    entries = access_of(out)
    assert entries["Ana"]["token"] != entries["ANA!"]["token"] and entries["Ana"]["id"] != entries["ANA!"]["id"]
    assert public(out, "Ana").is_dir() and public(out, "ANA!").is_dir()


def test_a_published_track_title_never_names_the_client(tmp_path):
    roster = make_project(
        tmp_path,
        "practitioner: Kim\nclients:\n  - name: Ana Lima\n    tracks:\n"
        '      - {script: scripts/scan.txt, title: "Ana\'s evening"}\n      - {script: scripts/scan.txt, title: Body scan}\n',
    )
    out = tmp_path / "out"
    run(roster, out)
    files = sorted(p.name for p in public(out, "Ana Lima").iterdir())
    assert "01-track.mp3" in files and "02-body-scan.mp3" in files
    assert not any("ana" in name or "lima" in name for name in files)


def test_outputs_never_leave_dir(tmp_path):
    """A folder inside DIR that is a symlink to somewhere else is refused before anything is written there."""
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "tracks")
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


def test_a_read_only_output_folder_is_one_clear_error_before_rendering(tmp_path, read_only_dir):
    roster = make_project(tmp_path)
    with pytest.raises(OutputError) as err:
        run(roster, read_only_dir)
    assert str(err.value).startswith(f"{read_only_dir}: ") and "choose another folder with -o, or make it writable" in str(err.value)
    assert calls(roster) == []


def test_outcome_fields():
    outcome = TrackOutcome(client="A", track="01-x", ok=False, skipped=False, error="e", audio=None)
    report = BatchReport([outcome], Path("m.json"), Path("out"), base_url="https://x/", clients=1, nothing_ready=["A"], revoked=["B"])
    assert report.failures == [outcome]
    assert format_summary(report).splitlines() == [
        "failed: A / 01-x: e",
        "not published: A — no recording is ready (see the failures above)",
        "revoked: B — not rendered or published (`attune access rotate out 'B'` to restore)",
        "1 track for 1 client: 0 rendered, 0 unchanged, 1 failed → out",
    ]


def test_progress_starts_at_once_and_names_each_track(tmp_path):
    roster = make_project(tmp_path)
    seen = []
    run(roster, tmp_path / "out", progress=seen.append)
    assert (seen[0].event, seen[0].done, seen[0].total, seen[0].to_render) == ("start", 1, 5, 4)  # the missing script is decided at once
    rendered = [(p.done, p.client, p.track) for p in seen if p.event == "rendered"]
    assert rendered == [(2, "Ana", "01-loving-kindness"), (3, "Ana", "02-evening-scan"), (4, "../../x", "01-loving-kindness"),
                        (5, HOSTILE, "02-loving-kindness")]  # fmt: skip
    assert [p.client for p in seen if p.event == "publishing"] == ["Ana", "../../x", HOSTILE]


def test_interrupted_inline_publishes_the_finished_clients_and_a_rerun_completes(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"

    def interrupt_after_ana(p):
        if p.event == "rendered" and p.track == "02-evening-scan":
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as err:
        run(roster, out, progress=interrupt_after_ana)
    assert str(err.value) == (f"interrupted — published 1 client whose tracks all finished (Ana); not published: ../../x, {HOSTILE} — "
                              "a re-run completes them; no partial file was left")  # fmt: skip
    assert len(json.loads((out / "manifest.json").read_text())["tracks"]) == 2
    assert public(out, "Ana").is_dir() and not public(out, "../../x").exists()
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]
    assert not [p for p in (out / "tracks").iterdir() if not any(p.iterdir())]  # no empty folders
    again = run(roster, out)
    assert [o.skipped for o in again.outcomes if o.ok] == [True, True, False, False] and len(again.published) == 3
