"""attune.delivery.manifest: what was rendered, typed both ways; a re-run renders only what changed."""

from __future__ import annotations

import json

from attune.delivery.batch import BatchOptions, format_summary, run_batch
from helpers.batch import calls, fake_render, make_project, public, run, tracks


def test_rerun_skips_unchanged_tracks_and_force_renders_all(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out)
    assert len(calls(roster)) == 4
    folder = public(out, "Ana")
    feed_before = (folder / "feed.xml").read_bytes()
    page_before = (folder / "index.html").read_bytes()
    published_at = folder.stat().st_mtime_ns

    again = run(roster, out)
    assert len(calls(roster)) == 4
    assert [(o.ok, o.skipped) for o in again.outcomes] == [(True, True), (True, True), (True, True), (False, False), (True, True)]
    assert (folder / "feed.xml").read_bytes() == feed_before and (folder / "index.html").read_bytes() == page_before
    assert folder.stat().st_mtime_ns == published_at  # an unchanged client is not published again
    assert format_summary(again).splitlines()[-1].startswith("5 tracks for 3 clients: 0 rendered, 4 unchanged, 1 failed")

    # Editing a script re-renders the tracks that use it; a damaged file is rendered again too.
    (roster.parent / "scripts" / "scan.txt").write_text("title: Body scan\nNotice the knees.\n")
    with open(tracks(out, "../../x") / "01-loving-kindness.mp3", "ab") as handle:
        handle.write(b"\0")
    third = run(roster, out)
    assert [o.skipped for o in third.outcomes if o.ok] == [True, False, False, True]
    assert len(calls(roster)) == 6

    forced = run(roster, out, force=True)
    assert [o.skipped for o in forced.outcomes] == [False] * 5
    assert len(calls(roster)) == 10


def test_default_fingerprint_is_the_renderers(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run_batch(roster, out, BatchOptions(jobs=1), render_fn=fake_render)
    again = run_batch(roster, out, BatchOptions(jobs=1), render_fn=fake_render)
    assert [o.skipped for o in again.outcomes if o.ok] == [True] * 4


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
