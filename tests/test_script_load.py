"""attune.script.load: reading script files (suffix, encoding, size) and the checks on a whole script."""

from __future__ import annotations

import pytest

from attune.errors import ScriptError
from attune.script import (
    MAX_SCRIPT_BYTES,
    Pause,
    Speech,
    load_script,
    parse_script_text,
)
from helpers.scripts import error, parse


def load_error(path, vars=None) -> str:
    with pytest.raises(ScriptError) as info:
        load_script(path, vars)
    return str(info.value)


def test_pauses_over_12h_in_total():
    text = "title: T\nsections:\n  - text: a [pause 7h]\n  - text: b [pause 5h]\n    repeat: 2\n"
    assert error(text) == ("s.yaml:4: the pauses add up to more than 12h by this one (17h so far) — shorten the pauses or the repeats; a track is at most 12h")
    assert parse("title: T\nsections:\n  - text: a [pause 6h] b [pause 6h]\n").sections[0].items[-1] == Pause(21600, 21600, 3)


def test_script_without_speech_is_not_a_parse_error():
    assert parse("title: T\nsections: [{text: '[pause 1m]'}]\n").sections[0].items == (Pause(60, 60, 2),)


def test_unknown_format():
    with pytest.raises(ScriptError) as info:
        parse_script_text("x", path="s.json", fmt="json")
    assert str(info.value) == "s.json: unknown script format 'json' — use 'yaml', 'txt' or 'md'"


@pytest.mark.parametrize(
    "fmt, hint",
    [
        ("yaml", "start it with `title: …` and a `sections:` list"),
        ("txt", "start it with front matter (---, title: …, ---) and then the words to speak"),
        ("md", "start it with a `# Title` line and then the words to speak"),
    ],
)
def test_blank_text(fmt, hint):
    assert error(" \n\t\n", fmt) == f"s.{fmt}: script is empty — {hint}"


def test_nul_in_text():
    assert error("# T\nHi\x00\n", "md") == ("s.md:2: the script contains a NUL character — this looks like a binary file; save the script as plain UTF-8 text")


def test_load_script_formats_by_suffix(tmp_path):
    (tmp_path / "a.yml").write_text("title: A\nsections: [{text: Hi.}]\n")
    (tmp_path / "b.YAML").write_text("title: B\nsections: [{text: Hi.}]\n")
    (tmp_path / "c.txt").write_text("---\ntitle: C\n---\nHi.\n")
    (tmp_path / "d.md").write_text("# D\nHi.\n")
    for name in ("a.yml", "b.YAML", "c.txt", "d.md"):
        script = load_script(tmp_path / name)
        assert script.title == name[0].upper() and script.path == str(tmp_path / name)
    assert load_script(str(tmp_path / "d.md")).path == str(tmp_path / "d.md")


def test_load_script_vars_and_bom_and_crlf(tmp_path):
    path = tmp_path / "s.md"
    path.write_bytes("\ufeff# T\r\n\r\nHi {name}.\r\n[pause 5s]\r\n".encode())
    script = load_script(path, {"name": "Ana"})
    assert script.sections[0].items == (Speech("Hi Ana.", 3), Pause(5, 5, 4))
    assert script.vars == {"name": "Ana"}


def test_load_script_missing_and_folder(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert load_error(missing) == (f"{missing}: no such script — check the path and the file name (scripts end in .yaml, .yml, .txt or .md)")
    assert load_error(tmp_path) == f"{tmp_path}: is a folder, not a script — give a script file such as practice.yaml"


@pytest.mark.parametrize("name, shown", [("s.json", "'.json'"), ("script", "no suffix")])
def test_load_script_bad_suffix(tmp_path, name, shown):
    path = tmp_path / name
    path.write_text("title: T\n")
    assert load_error(path) == (f"{path}: unsupported script type ({shown}) — name the file .yaml or .yml (YAML), .txt (plain text) or .md (Markdown)")


@pytest.mark.parametrize("data", [b"", b"  \n\n\t "])
def test_load_script_empty(tmp_path, data):
    path = tmp_path / "s.md"
    path.write_bytes(data)
    assert load_error(path) == f"{path}: script is empty — start it with a `# Title` line and then the words to speak"


def test_load_script_binary(tmp_path):
    path = tmp_path / "s.txt"
    path.write_bytes(b"---\ntitle: T\n---\n\x89PNG\x00\x00")
    assert load_error(path) == f"{path}:4: binary file, not a script (it contains NUL bytes) — give a .yaml, .txt or .md text file"


def test_load_script_not_utf8(tmp_path):
    path = tmp_path / "s.txt"
    path.write_bytes("---\ntitle: T\n---\nCaf\u00e9 ok\n".encode() + "Caf\u00e9 bad\n".encode("latin-1"))
    assert load_error(path) == f"{path}:5: not UTF-8 text: byte 0xe9 cannot be decoded — save the file as UTF-8"


def test_load_script_utf16(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("---\ntitle: T\n---\nHi\n", encoding="utf-16")
    assert load_error(path) == f"{path}: script is UTF-16 text — save it as UTF-8"


def test_load_script_size_limit(tmp_path):
    path = tmp_path / "s.txt"
    head = b"---\ntitle: T\n---\n"
    path.write_bytes(head + b"a" * (MAX_SCRIPT_BYTES - len(head)))
    assert len(load_script(path).sections[0].items[0].text) == MAX_SCRIPT_BYTES - len(head)
    path.write_bytes(head + b"a" * (MAX_SCRIPT_BYTES + 1 - len(head)))
    assert load_error(path) == f"{path}: script is 1,000,001 bytes, over the 1,000,000-byte limit — split it into shorter scripts"


def test_load_script_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "practice.yaml"
    path.write_text("title: T\nsections:\n  - text: |\n      Fine.\n\n      [pause 30s..10s]\n")
    assert load_error(path) == (
        f"{path}:6: [pause 30s..10s]: the range runs backwards (30s is longer than 10s) — write the shorter time first: [pause 10s..30s]"
    )
