"""Roster parsing: merged settings, paths relative to the roster, and exact errors with lines."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.delivery.roster import load_roster, parse_roster_text, slugify, track_stem
from attune.errors import ScriptError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16

GOOD = """\
practitioner: Dr. Rivera
title: Weekly practice
description: Ten quiet minutes.
language: en-GB
cover: art/cover.png
defaults: {length: 10m, voice: en-us, background: drone, vars: {place: the garden, name: Nobody}}
clients:
  - name: Ana
    vars: {greeting: Hola}
    tracks:
      - script: scripts/loving-kindness.yaml
        length: 15m
        voice: en-us+f3
      - script: ../shared/body scan.md
        title: Évening Body Scan
        rate: 140
        pitch: 40
        background: sounds/rain.wav
        background_db: -24.5
        bells: false
        vars: {greeting: Hi, extra: "7"}
  - name: Zoë Smith
    vars: {name: Zo}
    tracks:
      - script: scripts/loving-kindness.yaml
"""


def write(tmp_path: Path, text: str, name: str = "roster.yaml") -> Path:
    path = tmp_path / "practice" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    (path.parent / "art").mkdir(exist_ok=True)
    (path.parent / "art" / "cover.png").write_bytes(PNG)
    return path


def test_good_roster(tmp_path):
    path = write(tmp_path, GOOD)
    roster = load_roster(path)
    base = path.parent.resolve()
    assert (roster.practitioner, roster.title, roster.description, roster.language) == ("Dr. Rivera", "Weekly practice", "Ten quiet minutes.", "en-GB")
    assert roster.cover == base / "art" / "cover.png"
    ana, zoe = roster.clients
    assert (ana.name, ana.slug, ana.line, zoe.slug) == ("Ana", "ana", 8, "zoe-smith")
    first, second = ana.tracks
    assert first.script == base / "scripts" / "loving-kindness.yaml"
    assert (first.script_text, first.line, first.number, first.total, first.file_stem) == ("scripts/loving-kindness.yaml", 11, 1, 2, "01-loving-kindness")
    f = first.settings
    assert (f.length_s, f.voice, f.background.value, first.title) == (900.0, "en-us+f3", "drone", None)
    assert f.vars == {"place": "the garden", "name": "Ana", "greeting": "Hola"}
    assert second.script == tmp_path.resolve() / "shared" / "body scan.md"
    assert second.file_stem == "02-evening-body-scan" and second.title == "Évening Body Scan"
    t = second.settings
    assert (t.length_s, t.voice, t.rate_wpm, t.pitch) == (600.0, "en-us", 140.0, 40)
    # A sound file resolves against the roster's folder.
    assert (t.background.value, t.background.base_dir, t.background_db, t.bells_start, t.bells_end) == ("sounds/rain.wav", base, -24.5, False, False)
    assert t.vars == {"place": "the garden", "name": "Ana", "greeting": "Hi", "extra": "7"}
    assert zoe.tracks[0].settings.vars == {"place": "the garden", "name": "Zo"}


def test_minimal_roster_defaults(tmp_path):
    roster = parse_roster_text("practitioner: Kim\nclients:\n  - name: Bo\n    tracks: [{script: a.txt}]\n", path=tmp_path / "r.yaml")
    assert (roster.title, roster.description, roster.language, roster.cover) == ("Practice with Kim", None, "en", None)
    (track,) = roster.clients[0].tracks
    assert (track.settings.length_s, track.settings.voice, track.settings.background, track.settings.vars) == (None, None, None, {"name": "Bo"})


def test_missing_script_is_not_a_roster_error(tmp_path):
    roster = parse_roster_text("practitioner: Kim\nclients:\n  - name: Bo\n    tracks: [{script: nowhere.yaml}]\n", path=tmp_path / "r.yaml")
    assert not roster.clients[0].tracks[0].script.exists()


def test_background_mapping_file_is_resolved(tmp_path):
    roster = parse_roster_text(
        "practitioner: Kim\nclients:\n  - name: Bo\n    tracks: [{script: a.txt, background: {file: rain.ogg, gain_db: -20}}]\n",
        path=tmp_path / "sub" / "r.yaml",
    )
    background = roster.clients[0].tracks[0].settings.background
    assert (background.value, background.base_dir) == ({"file": "rain.ogg", "gain_db": -20}, tmp_path.resolve() / "sub")
    assert (background.path, background.line) == (str(tmp_path / "sub" / "r.yaml"), 4)


def test_many_tracks_get_wider_numbers():
    assert track_stem(7, 120, "Body Scan") == "007-body-scan"
    assert track_stem(3, 9, "!!!") == "03-track"


HEAD = "practitioner: Kim\nclients:\n  - name: Bo\n    tracks:\n"

ERRORS = [
    ("", 1, "the roster is empty — add practitioner:, title: and clients:"),
    ("# only a comment\n", 1, "the roster is empty — add practitioner:, title: and clients:"),
    (
        "- a\n- b\n",
        1,
        "the roster must be a mapping of keys, not a list — write it as key: value lines (practitioner, title, description, language, cover, contact, message, category, order, defaults, clients)",
    ),
    ("practitioner: Kim\nclients: [\n", 3, "invalid YAML: expected the node content, but found '<stream end>' — check the indentation and quoting"),
    ("practitioner: Kim\n\tclients: []\n", 2, "invalid YAML: found character '\\t' that cannot start any token — check the indentation and quoting"),
    ("title: T\nclients: []\n", 1, "missing 'practitioner' — add `practitioner: Your Name` at the top"),
    ("practitioner: Kim\n", 1, "missing 'clients' — add a clients: list with a name and tracks for each client"),
    ("practitioner: Kim\npractitioner: Lee\n", 2, "duplicate key 'practitioner' in the roster — remove one of them"),
    ("practitionr: Kim\nclients: []\n", 1, "unknown key 'practitionr' in the roster — did you mean 'practitioner'?"),
    (
        "practitioner: Kim\nzzz: 1\n",
        2,
        "unknown key 'zzz' in the roster — use one of: practitioner, title, description, language, cover, contact, message, category, order, defaults, clients",
    ),
    ("practitioner: [Kim]\nclients: []\n", 1, "'practitioner' must be text, not a list — give one line of text"),
    ("practitioner: yes\nclients: []\n", 1, "'practitioner' must be text, not true/false — put it in quotes"),
    ("practitioner: ''\nclients: []\n", 1, "'practitioner' is empty — give a value or remove the line"),
    ("practitioner: Kim\nclients: {a: 1}\n", 2, "'clients' must be a list, not a mapping — start each client with `- name: …`"),
    ("practitioner: Kim\nclients: []\n", 2, "'clients' is empty — add at least one client with a name and tracks"),
    ("practitioner: Kim\nlanguage: english!\nclients: []\n", 2, "'language' 'english!' is not a language code — write a code such as en, de or en-GB"),
    ("practitioner: Kim\ncover: nope.png\nclients: []\n", 2, "the cover image does not exist: {base}/nope.png — use a PNG or JPEG image of at most 5 MB"),
    ("practitioner: Kim\nclients:\n  - tracks: [{script: a}]\n", 3, "a client has no 'name' — add `name: …` to the client"),
    ("practitioner: Kim\nclients:\n  - name: Bo\n", 3, "client 'Bo' has no tracks — add tracks: with at least one `- script: …`"),
    ("practitioner: Kim\nclients:\n  - name: Bo\n    tracks: []\n", 4, "client 'Bo' has no tracks — add at least one `- script: …`"),
    ("practitioner: Kim\nclients:\n  - name: Bo\n    tracks: a.yaml\n", 4, "'tracks' must be a list, not text — start each track with `- script: …`"),
    ("practitioner: Kim\nclients:\n  - name: Bo\n    email: b@x\n", 4, "unknown key 'email' in a client — use one of: name, vars, message, tracks"),
    (HEAD + "      - a.yaml\n", 5, "Bo / track 1: a track must be a mapping with a 'script' key — write `- script: path/to/script.yaml`"),
    (HEAD + "      - length: 5m\n", 5, "Bo / track 1: a track has no 'script' — add `script: path/to/script.yaml`"),
    (HEAD + "      - script: a.yaml\n        lenght: 5m\n", 6, "Bo / track 1: unknown key 'lenght' in a track — did you mean 'length'?"),
    (
        HEAD + "      - script: a.yaml\n        length: 10 minutes\n",
        6,
        "Bo / track 1: length '10 minutes' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h",
    ),
    (HEAD + "      - script: a.yaml\n        length: 600\n", 6, "Bo / track 1: length '600' has no unit — write 600s or 10m"),
    (HEAD + "      - script: a.yaml\n        length: 0s\n", 6, "Bo / track 1: length '0s' is zero — give the track's length, e.g. length: 10m"),
    (HEAD + "      - script: a.yaml\n        length: 13h\n", 6, "Bo / track 1: length '13h' is longer than the 12h limit — use a duration of 12h or less"),
    (HEAD + "      - script: a.yaml\n        rate: fast\n", 6, "Bo / track 1: rate must be a number from 80 to 400, not 'fast' — give words per minute, e.g. rate: 150"),
    # The same rules and messages as a script's (one settings reader), so a roster's bad rate fails here, not mid-batch.
    (HEAD + "      - script: a.yaml\n        rate: -3\n", 6, "Bo / track 1: rate must be a number from 80 to 400, not -3 — give words per minute, e.g. rate: 150"),
    (HEAD + "      - script: a.yaml\n        rate: 50\n", 6, "Bo / track 1: rate must be a number from 80 to 400, not 50 — give words per minute, e.g. rate: 150"),
    (
        HEAD + "      - script: a.yaml\n        pitch: 101\n",
        6,
        "Bo / track 1: pitch must be a whole number from 0 to 100, not 101 — 50 is normal, e.g. pitch: 50",
    ),
    (
        HEAD + "      - script: a.yaml\n        background_db: 6\n",
        6,
        "Bo / track 1: background_db must be a number from -60 to 0, not 6 — the bed's level under the voice in dB, e.g. background_db: -22",
    ),
    (HEAD + "      - script: a.yaml\n        pitch: 4.5\n", 6, "Bo / track 1: pitch must be a whole number from 0 to 100, not 4.5 — 50 is normal, e.g. pitch: 50"),
    (HEAD + "      - script: a.yaml\n        bells: sometimes\n", 6, "Bo / track 1: bells must be true, false or a mapping, not 'sometimes' — write bells: true, or bells: {start: true, end: false}"),
    (
        HEAD + "      - script: a.yaml\n        background: [a, b]\n",
        6,
        "Bo / track 1: background must be a name or a mapping, not a list — write background: drone, or a mapping such as {kind: drone, gain_db: -20}",
    ),
    (HEAD + "      - script: a.yaml\n        vars: [a]\n", 6, "Bo / track 1: vars must be a mapping of placeholder values, not a list — write vars: then lines like `  name: friend`"),
    (
        HEAD + "      - script: a.yaml\n        vars:\n          ok: fine\n          flag: [yes]\n",
        8,
        "Bo / track 1: vars value for 'flag' must be text or a number, not a list — write flag: friend",
    ),
    (HEAD + "      - script: a.yaml\n        voice: [a]\n", 6, "Bo / track 1: voice must be text, not a list — write voice: followed by the text on the same line"),
    (HEAD + "      - script: a.yaml\n        pitch: 40\n        engine: piper\n", 6, "Bo / track 1: pitch is not available with the piper engine — Piper has no pitch control: remove pitch:, or use engine: pyttsx3"),
    (
        "practitioner: Kim\ndefaults: {script: a.yaml}\nclients: []\n",
        2,
        "unknown key 'script' in defaults — use one of: length, engine, voice, rate, pitch, background, background_db, bells, interval_bells, vars, formats, recording, clean",
    ),
    ("practitioner: Kim\ndefaults: {length: soon}\nclients: []\n", 2, "length 'soon' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h"),
    (
        "practitioner: Kim\nclients:\n  - name: Ana\n    tracks: [{script: a}]\n  - name: Ana\n    tracks: [{script: a}]\n",
        5,
        "client 'Ana' is named twice, here and on line 3 — give each client a name of their own: the name is how their private links are kept",
    ),
    (
        "practitioner: Kim\ncontact: rivera at example\nclients: []\n",
        2,
        "'contact' 'rivera at example' is not an email address — write e.g. contact: rivera@example.org",
    ),
]


@pytest.mark.parametrize("text, line, message", ERRORS, ids=[f"e{i}" for i in range(len(ERRORS))])
def test_errors_have_exact_message_and_line(tmp_path, text, line, message):
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as err:
        load_roster(path)
    assert (err.value.path, err.value.line) == (str(path), line)
    assert str(err.value) == f"{path}:{line}: " + message.replace("{base}", str(tmp_path.resolve()))


def test_unreadable_rosters(tmp_path):
    with pytest.raises(ScriptError) as err:
        load_roster(tmp_path / "none.yaml")
    assert str(err.value) == f"{tmp_path / 'none.yaml'}: the roster file does not exist — check the path"
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("practitioner: Zo\xeb\n".encode("latin-1"))
    with pytest.raises(ScriptError) as err:
        load_roster(bad)
    assert str(err.value) == f"{bad}: the roster is not UTF-8 text — save it as UTF-8"


def test_yaml_is_loaded_safely(tmp_path):
    text = "practitioner: !!python/object/apply:os.system [echo hacked]\nclients: []\n"
    with pytest.raises(ScriptError) as err:
        parse_roster_text(text, path=tmp_path / "r.yaml")
    assert err.value.line == 1 and "could not determine a constructor" in str(err.value)


@pytest.mark.parametrize(
    "name, slug",
    [
        ("Ana", "ana"),
        ("Zoë Smith-Jones", "zoe-smith-jones"),
        ("../../x", "x"),
        ("<script>alert(1)</script>", "script-alert-1-script"),
        ("...hidden", "hidden"),
        ("--a--b--", "a-b"),
        ("慈悲", "client"),
        ("", "client"),
        ("/etc/passwd", "etc-passwd"),
        ("C:\\Windows\\system32", "c-windows-system32"),
        ("ﬁne", "fine"),
        ("a" * 59 + "-b" + "c" * 10, "a" * 59),
        ("x" * 100, "x" * 60),
    ],
)
def test_slugify(name, slug):
    assert slugify(name) == slug


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_slugify_is_always_safe(name):
    slug = slugify(name)
    assert 1 <= len(slug) <= 60
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in slug)
    assert not slug.startswith("-") and not slug.endswith("-") and "--" not in slug


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc:- \n[]{}'\"&*!|>#%@`,?\t")), max_size=80))
def test_any_text_parses_or_raises_script_error(text):
    try:
        parse_roster_text(text, path="r.yaml")
    except ScriptError as exc:
        assert exc.line is not None and exc.line >= 1
