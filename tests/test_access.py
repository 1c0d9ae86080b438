"""attune.delivery.access and manage: private tokens, stable across runs; rotate and revoke end to end;
`attune access` on the command line."""

from __future__ import annotations

import re
import stat

import pytest
from click.testing import CliRunner

from attune.cli import cli
from attune.delivery.access import TOKEN_BYTES, Access, new_token
from attune.delivery.access_admin import client_links, revoke_client, rotate_client
from attune.errors import AttuneError
from helpers.batch import access_of, calls, make_project, public, run

BASE = "https://example.org/p/"


def test_tokens_are_random_url_safe_and_long_enough():
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200 and TOKEN_BYTES * 8 >= 128
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", token) for token in tokens)


def test_tokens_stay_across_reruns_and_base_urls(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out, base_url=BASE)
    first = {name: (e["id"], e["token"]) for name, e in access_of(out).items()}
    run(roster, out, base_url="https://other.example/x/", force=True)
    run(roster, out)
    assert {name: (e["id"], e["token"]) for name, e in access_of(out).items()} == first
    assert stat.S_IMODE((out / "access.json").stat().st_mode) == 0o600


def test_rotate_moves_the_folder_without_rendering_and_the_old_link_stops(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out, base_url=BASE)
    before = access_of(out)
    old_folder = public(out, "Ana")
    rendered = len(calls(roster))
    page, feed = rotate_client(out, "Ana")
    after = access_of(out)
    token = after["Ana"]["token"]
    assert token != before["Ana"]["token"] and after["Ana"]["id"] == before["Ana"]["id"]
    assert (page, feed) == (f"{BASE}{token}/index.html", f"{BASE}{token}/feed.xml")
    assert not old_folder.exists() and public(out, "Ana").is_dir()
    assert len(calls(roster)) == rendered  # nothing rendered again
    feed_xml = (public(out, "Ana") / "feed.xml").read_text()
    assert before["Ana"]["token"] not in feed_xml and f"{BASE}{token}/01-loving-kindness.mp3" in feed_xml
    # The others keep their links, and so does Ana's new one through the next batch.
    assert {n: e["token"] for n, e in after.items() if n != "Ana"} == {n: e["token"] for n, e in before.items() if n != "Ana"}
    run(roster, out, base_url=BASE)
    assert access_of(out)["Ana"]["token"] == token and token in (out / "links.csv").read_text()


def test_revoke_unpublishes_until_rotated(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out, base_url=BASE)
    folder = public(out, "../../x")
    revoke_client(out, "../../x")
    assert not folder.exists() and access_of(out)["../../x"]["state"] == "revoked"
    assert "../../x,revoked,," in (out / "links.csv").read_text()
    rendered = len(calls(roster))
    report = run(roster, out, base_url=BASE, force=True)
    assert report.revoked == ["../../x"] and "../../x" not in report.published
    assert not public(out, "../../x").exists() and len(calls(roster)) == rendered + 3  # the other clients' 3 good tracks only
    rotate_client(out, "../../x")
    assert access_of(out)["../../x"]["state"] == "active" and (public(out, "../../x") / "index.html").is_file()


def test_an_unknown_client_is_one_error_with_close_matches(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out)
    with pytest.raises(AttuneError) as err:
        rotate_client(out, "ana")
    assert str(err.value) == f"no client named 'ana' in {out.resolve() / 'access.json'} — did you mean 'Ana'? Names are as written in the roster"
    access = Access.load(out)
    with pytest.raises(AttuneError, match="run `attune access list` to see the clients"):
        access.get("Zed Zimmerman")


def test_links_are_paths_without_a_base_url(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out)
    rows = client_links(out)
    ana = next(row for row in rows if row[0] == "Ana")
    assert ana[1] == "active" and ana[2] == str(public(out, "Ana").resolve() / "index.html")
    assert client_links(out, BASE)[0][3].startswith(BASE)


def test_access_commands(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out, base_url=BASE)
    runner = CliRunner()
    listed = runner.invoke(cli, ["access", "list", str(out)])
    assert listed.exit_code == 0
    assert listed.stdout.splitlines()[0] == f"Ana\tactive\t{BASE}{access_of(out)['Ana']['token']}/index.html\t{BASE}{access_of(out)['Ana']['token']}/feed.xml"
    rotated = runner.invoke(cli, ["access", "rotate", str(out), "Ana"])
    token = access_of(out)["Ana"]["token"]
    assert rotated.exit_code == 0 and rotated.stdout == f"rotated: Ana\n  page {BASE}{token}/index.html\n  feed {BASE}{token}/feed.xml\n"
    revoked = runner.invoke(cli, ["access", "revoke", str(out), "Ana"])
    assert revoked.exit_code == 0 and revoked.stdout == "revoked: Ana (rotate to restore)\n"
    unknown = runner.invoke(cli, ["access", "revoke", str(out), "Anna"])
    assert unknown.exit_code == 1
    assert unknown.stderr == f"Error: no client named 'Anna' in {out.resolve() / 'access.json'} — did you mean 'Ana'? Names are as written in the roster\n"
    not_a_batch = runner.invoke(cli, ["access", "list", str(tmp_path)])
    assert not_a_batch.exit_code == 1 and "it is not a batch's output folder" in not_a_batch.stderr
