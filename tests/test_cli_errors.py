"""Every user error through the CLI: one `Error: FILE:LINE: what — how to fix` line, the right exit code, no litter.

Exit codes: 1 bad input, 2 bad usage, 70 a bug in Attune, 130 interrupted. Each test also checks which
files exist afterwards: no output file, no `*.part` temporary, and an existing output left byte for byte.
Renders use the real engine with one speech cache for the whole module (the speech is synthesised once).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import attune.checks.script
import attune.media.master
import attune.render
from attune.audio.bells import bell_strike
from attune.cli import cli
from attune.durations import format_duration
from attune.library import SOUNDS_DIR
from attune.render import plan_script
from attune.request import RenderRequest
from attune.script import MAX_SCRIPT_BYTES
from attune.timebase import SAMPLE_RATE
from helpers.audio import decode, rms_dbfs
from helpers.cli import invoke

GOOD = """\
title: Evening calm
sections:
  - name: Arriving
    text: |
      Welcome. [pause 2s..20s]
      Rest here.
"""
#: What an existing output file holds before a failed render; it must still hold exactly this after.
OLD_BYTES = b"ID3 an earlier render that must survive a failed one\n"
MARKERS_HINT = "Markers are [pause 5s], [pause 10s..2m], [pause 10s..], [short pause], [long pause], [breath], [breath 3], [bell], [bells every 10m]"


@pytest.fixture
def good(tmp_path) -> Path:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    return path


@pytest.fixture
def out_dir(tmp_path) -> Path:
    """An output folder that already holds `old.mp3` (OLD_BYTES)."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "old.mp3").write_bytes(OLD_BYTES)
    return folder


def render(script, output, cache, *extra):
    return invoke("render", script, "-o", output, "--cache-dir", cache, *extra)


def assert_error(result, code: int, message: str) -> None:
    """Exactly one line on stderr, `Error: <message>`, nothing on stdout, and the exit code."""
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""
    assert result.exit_code == code


def assert_untouched(folder: Path) -> None:
    """The output folder holds only the earlier output, unchanged: no new file, no `*.part` left."""
    assert sorted(p.name for p in folder.iterdir()) == ["old.mp3"]
    assert (folder / "old.mp3").read_bytes() == OLD_BYTES


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------
# Scripts that cannot be read: `check` and `render` report the same line, with exit 1

_PAUSE_AT_5 = "title: Evening calm\nsections:\n  - text: |\n      Welcome.\n      {}\n"

SCRIPT_ERRORS = {
    "yaml-syntax": (
        "bad.yaml",
        "title: Evening calm\nsections:\n  - text: Welcome.\n   name: Arriving\n",
        "{path}:4: YAML syntax error (while parsing a block collection, expected <block end>, but found "
        "'<block mapping start>') in 'name: Arriving' — check the indentation and quoting on this line: text "
        "containing ': ' or ' #', or starting with [, {{, *, &, ! or a quote, must be quoted or written as a block (text: |)",
    ),
    "wrong-type": (
        "type.yaml",
        "title: Evening calm\nsections: 5\n",
        "{path}:2: sections must be a list, not 5 — write `sections:` then one `- name: …` / `  text: …` entry per section",
    ),
    "missing-title": (
        "notitle.yaml",
        "sections:\n  - text: Welcome.\n",
        "{path}: missing title — add `title: …` at the top of the script",
    ),
    "empty": ("empty.yaml", "", "{path}: script is empty — start it with `title: …` and a `sections:` list"),
    "blank": ("blank.md", "\n  \n\t\n", "{path}: script is empty — start it with a `# Title` line and then the words to speak"),
    "binary": (
        "image.yaml",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        "{path}:3: binary file, not a script (it contains NUL bytes) — give a .yaml, .txt or .md text file",
    ),
    "not-utf8": (
        "latin1.yaml",
        "title: Evening calm\nsections:\n  - text: Café au lait.\n".encode("latin-1"),
        "{path}:3: not UTF-8 text: byte 0xe9 cannot be decoded — save the file as UTF-8",
    ),
    "utf16": (
        "utf16.yaml",
        "title: Evening calm\n".encode("utf-16"),
        "{path}: script is UTF-16 text — save it as UTF-8",
    ),
    "over-1mb": (
        "huge.txt",
        ("---\ntitle: Huge\n---\n" + "Breathe. " * (MAX_SCRIPT_BYTES // 9))[:MAX_SCRIPT_BYTES] + "\n",
        "{path}: script is 1,000,001 bytes, over the 1,000,000-byte limit — split it into shorter scripts",
    ),
    "unknown-marker": (
        "paws.yaml",
        _PAUSE_AT_5.format("[paws 5s]"),
        f"{{path}}:5: unknown marker [paws 5s] — did you mean [pause 5s]? {MARKERS_HINT}",
    ),
    "negative-pause": (
        "negative.yaml",
        _PAUSE_AT_5.format("[pause -3s]"),
        "{path}:5: [pause -3s]: pause '-3s' is negative — write a positive duration such as 30s or 2m",
    ),
    "bad-unit": (
        "unit.yaml",
        _PAUSE_AT_5.format("[pause 5x]"),
        "{path}:5: [pause 5x]: pause '5x' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h",
    ),
    "too-long-pause": (
        "long.yaml",
        _PAUSE_AT_5.format("[pause 999h]"),
        "{path}:5: [pause 999h]: pause '999h' is longer than the 12h limit — use a duration of 12h or less",
    ),
    "backwards-range": (
        "backwards.yaml",
        _PAUSE_AT_5.format("[pause 30s..10s]"),
        "{path}:5: [pause 30s..10s]: the range runs backwards (30s is longer than 10s) — write the shorter time first: [pause 10s..30s]",
    ),
    "undefined-placeholder": (
        "placeholder.yaml",
        "title: Evening calm\nvars: {name: friend}\nsections:\n  - text: |\n      Welcome, {client}.\n",
        "{path}:5: undefined placeholder {{client}} — give it a value with --var client=VALUE or a `vars:` entry (client: …)",
    ),
    "markdown-marker-line": (
        "evening.md",
        "# Evening calm\n\n## Arriving\nWelcome.\n[breath three]\n",
        "{path}:5: [breath three]: the number of breaths must be a whole number from 1 to 100, not 'three' — "
        "write [breath] for one breath or [breath 3] for three",
    ),
    "text-front-matter-line": (
        "evening.txt",
        "---\ntitle: Evening calm\nrate: fast\n---\nWelcome.\n",
        "{path}:3: rate must be a number from 80 to 400, not 'fast' — give words per minute, e.g. rate: 150",
    ),
    "unknown-background-kind": (
        "thunder.yaml",
        "title: Evening calm\nbackground: thunder\nsections:\n  - text: Welcome.\n",
        "{path}:2: unknown background 'thunder' — use one of: none, drone, binaural, pink-noise, brown-noise, white-noise, or a sound file path",
    ),
}


@pytest.mark.parametrize("command", ["check", "render"])
@pytest.mark.parametrize("case", list(SCRIPT_ERRORS))
def test_script_error(case, command, tmp_path, out_dir, cache):
    name, content, message = SCRIPT_ERRORS[case]
    script = write(tmp_path, name, content)
    if command == "check":
        result = invoke("check", script)
    else:
        result = render(script, out_dir / "old.mp3", cache)
    assert_error(result, 1, message.format(path=script))
    assert_untouched(out_dir)


def test_missing_script(tmp_path, out_dir, cache):
    script = tmp_path / "nowhere.yaml"
    message = f"{script}: no such script — check the path and the file name (scripts end in .yaml, .yml, .txt or .md)"
    assert_error(invoke("check", script), 1, message)
    assert_error(render(script, out_dir / "new.mp3", cache), 1, message)
    assert_untouched(out_dir)


def test_placeholder_filled_by_var(tmp_path):
    script = write(tmp_path, "placeholder.yaml", SCRIPT_ERRORS["undefined-placeholder"][1])
    result = invoke("check", script, "--var", "client=Ana")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"ok  {script}: 1 section, 2 words, pauses from 0s, fits exactly 1s (an estimate from the words at 140 wpm)\n"
    assert result.stderr == ""


# ------------------------------------------------------------------------------------------------
# Bad usage: exit 2, one line that points at --help


@pytest.mark.parametrize(
    "args, message",
    [
        (["--length", "10"], "Invalid value for '--length': --length '10' has no unit — write 10s or 10m — see `attune render --help`"),
        (
            ["--length", "ten minutes"],
            "Invalid value for '--length': --length 'ten minutes' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h — see `attune render --help`",
        ),
        (
            ["--length", "13h"],
            "Invalid value for '--length': --length '13h' is longer than the 12h limit — use a duration of 12h or less — see `attune render --help`",
        ),
        (["--var", "x"], "Invalid value for '--var': 'x' is not KEY=VALUE — write --var name=Ana — see `attune render --help`"),
        (["--rate", "1000"], "Invalid value for '--rate': 1000.0 is not in the range 80<=x<=400 — see `attune render --help`"),
        (["--format", "ogg"], "Invalid value for '--format': 'ogg' is not one of 'mp3', 'm4a', 'm4b', 'opus', 'flac', 'wav' — see `attune render --help`"),
        (["--bogus"], "No such option '--bogus' — see `attune render --help`"),
    ],
)
def test_render_bad_usage(args, message, good, out_dir, cache):
    assert_error(render(good, out_dir / "new.mp3", cache, *args), 2, message)
    assert_untouched(out_dir)


def test_check_bad_var_is_usage(good):
    assert_error(
        invoke("check", good, "--var", "=Ana"), 2, "Invalid value for '--var': '=Ana' is not KEY=VALUE — write --var name=Ana — see `attune check --help`"
    )


def test_unknown_command():
    assert_error(invoke("rendr", "x.yaml"), 2, "No such command 'rendr'. Did you mean 'render'? — see `attune --help`")


def test_output_that_is_a_folder_is_usage(good, out_dir, cache):
    assert_error(render(good, out_dir, cache), 2, f"Invalid value for '-o' / '--output': File '{out_dir}' is a directory — see `attune render --help`")
    assert_untouched(out_dir)


# ------------------------------------------------------------------------------------------------
# Lengths the script cannot meet: exit 1, naming the range that fits; the old output survives


@pytest.mark.engine
def test_length_too_long_names_the_range(good, out_dir, cache):
    target = out_dir / "old.mp3"
    result = render(good, target, cache, "--length", "5m")
    plan = plan_script(RenderRequest(good), cache_dir=cache)
    assert plan.min_s < 20.0 < plan.max_s < 5 * 60
    fits = f"between {format_duration(math.ceil(plan.min_s))} and {format_duration(math.floor(plan.max_s))}"
    assert_error(result, 1, f"{good}: cannot make 5m from this script — this script fits {fits}")
    assert_untouched(out_dir)


@pytest.mark.engine
def test_length_too_short_for_open_ended_script(tmp_path, out_dir, cache):
    script = write(tmp_path, "open.yaml", "title: Open\nsections:\n  - text: |\n      Welcome. [pause 10s..]\n      Rest here.\n")
    result = render(script, out_dir / "old.mp3", cache, "--length", "5s")
    plan = plan_script(RenderRequest(script), cache_dir=cache)
    assert plan.max_s is None
    assert_error(result, 1, f"{script}: cannot make 5s from this script — this script fits {format_duration(math.ceil(plan.min_s))} or longer")
    assert_untouched(out_dir)


# ------------------------------------------------------------------------------------------------
# Voices


@pytest.mark.engine
@pytest.mark.parametrize(
    "voice, message",
    [
        ("en-uss", "unknown voice 'en-uss' — did you mean en-us, en-us-nyc, en-shaw? Run `attune voices` to list them"),
        ("en-us+f9", "unknown voice variant '+f9' — did you mean +f5? See `attune voices`"),
    ],
)
def test_unknown_voice(voice, message, good, out_dir, cache):
    assert_error(render(good, out_dir / "new.mp3", cache, "--voice", voice), 1, message)
    assert_untouched(out_dir)


@pytest.mark.engine
def test_unknown_voice_in_script_names_its_line(tmp_path, out_dir, cache):
    script = write(tmp_path, "voice.yaml", "title: Evening calm\nvoice: en-uss\nsections:\n  - text: Welcome.\n")
    assert_error(
        render(script, out_dir / "new.mp3", cache),
        1,
        f"{script}:2: unknown voice 'en-uss' — did you mean en-us, en-us-nyc, en-shaw? Run `attune voices` to list them",
    )


# ------------------------------------------------------------------------------------------------
# Backgrounds


def test_background_file_missing(tmp_path, out_dir, cache, good, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_error(
        render(good, out_dir / "new.mp3", cache, "--background", "rain.mp3"), 1, f"background file 'rain.mp3' not found — looked in {tmp_path} and {SOUNDS_DIR}; did you mean 'soft-rain.ogg'?"
    )
    script = write(tmp_path, "rainy.yaml", "title: Rainy\nbackground: rain.mp3\nsections:\n  - text: Welcome.\n")
    message = f"{script}:2: background file 'rain.mp3' not found — looked in {tmp_path} and {SOUNDS_DIR}; did you mean 'soft-rain.ogg'?"
    assert_error(invoke("check", script), 1, message)
    assert_error(render(script, out_dir / "new.mp3", cache), 1, message)
    assert_untouched(out_dir)


def test_background_file_not_audio(tmp_path, out_dir, cache, good, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "rain.mp3", "these are words, not sound\n")
    script = write(tmp_path, "rainy.yaml", "title: Rainy\nbackground: rain.mp3\nsections:\n  - text: Welcome.\n")
    what = (
        "background file 'rain.mp3' is not a sound file ffmpeg can decode — use a WAV, MP3, OGG or FLAC file "
        r"\(ffmpeg: [^\n]+\)"
    )
    for result, where in [
        (render(good, out_dir / "new.mp3", cache, "--background", "rain.mp3"), ""),
        (invoke("check", script), f"{script}:2: "),
        (render(script, out_dir / "new.mp3", cache), f"{script}:2: "),
    ]:
        assert re.fullmatch(f"Error: {re.escape(where)}{what}\n", result.stderr), result.stderr
        assert result.exit_code == 1 and result.stdout == ""
    assert_untouched(out_dir)


def test_background_unknown_kind_on_command_line(good, out_dir, cache):
    assert_error(
        render(good, out_dir / "new.mp3", cache, "--background", "thunder"),
        1,
        "unknown background 'thunder' — use one of: none, drone, binaural, pink-noise, brown-noise, white-noise, or a sound file path",
    )
    assert_untouched(out_dir)


# ------------------------------------------------------------------------------------------------
# Output paths


def test_output_folder_is_a_file(good, out_dir, cache):
    blocker = out_dir / "old.mp3"
    target = blocker / "new.mp3"
    assert_error(render(good, target, cache), 1, f"{target}: {blocker} is not a folder — choose another output path")
    assert_untouched(out_dir)


def test_output_folder_read_only(good, read_only_dir, cache):
    target = read_only_dir / "new.mp3"
    assert_error(render(good, target, cache), 1, f"{target}: the folder {read_only_dir} is not writable — choose another output path or fix its permissions")
    assert list(read_only_dir.iterdir()) == []


# ------------------------------------------------------------------------------------------------
# Bugs inside Attune: exit 70 and a request for a report; --debug shows the traceback


def _boom(*args, **kwargs):
    raise ZeroDivisionError("division by zero")


BUG_MESSAGE = (
    "internal error (ZeroDivisionError: division by zero) — this is a bug in Attune; please report it with the output of the same command run with --debug"
)


@pytest.mark.engine
def test_bug_while_encoding_leaves_old_output(good, out_dir, cache, monkeypatch):
    monkeypatch.setattr(attune.media.master, "windows", _boom)  # fails after the temporary file exists
    assert_error(render(good, out_dir / "old.mp3", cache), 70, BUG_MESSAGE)
    assert_untouched(out_dir)


def test_bug_in_check(good, monkeypatch):
    monkeypatch.setattr(attune.checks.script, "count_words", _boom)
    assert_error(invoke("check", good), 70, BUG_MESSAGE)


def test_eof_error_is_a_bug_not_an_interrupt(good, monkeypatch):
    # click turns EOFError into "Aborted!"; Attune never reads a terminal, so it is a bug.
    def eof(*args, **kwargs):
        raise EOFError("unexpected EOF")

    monkeypatch.setattr(attune.checks.script, "count_words", eof)
    assert_error(invoke("check", good), 70, BUG_MESSAGE.replace("ZeroDivisionError: division by zero", "EOFError: unexpected EOF"))


@pytest.mark.engine
def test_bug_with_debug_shows_traceback_and_still_exits_70(good, out_dir, cache, monkeypatch):
    monkeypatch.setattr(attune.media.master, "windows", _boom)
    result = invoke("--debug", "render", good, "-o", out_dir / "old.mp3", "--cache-dir", cache)
    assert result.exit_code == 70
    assert "Traceback (most recent call last)" in result.stderr and "ZeroDivisionError" in result.stderr
    assert result.stderr.endswith(f"Error: {BUG_MESSAGE}\n")
    assert_untouched(out_dir)


def test_debug_shows_traceback_for_user_error(tmp_path):
    script = write(tmp_path, "paws.yaml", SCRIPT_ERRORS["unknown-marker"][1])
    result = invoke("--debug", "render", script, "-o", tmp_path / "x.mp3", "--cache-dir", tmp_path / "c")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert "attune.errors.ScriptError" in result.stderr
    assert lines[-1] == f"Error: {script}:5: unknown marker [paws 5s] — did you mean [pause 5s]? {MARKERS_HINT}"
    assert not (tmp_path / "x.mp3").exists()


@pytest.mark.engine
def test_keyboard_interrupt_while_encoding(good, out_dir, cache, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(attune.media.master, "windows", interrupt)
    assert_error(render(good, out_dir / "old.mp3", cache), 130, "interrupted — no partial file was left; finished outputs are intact")


# ------------------------------------------------------------------------------------------------
# A script with only pauses and bells renders: a timed silent sit


def _bell_windows_audible_rest_silent(path: Path, bell_starts_s: list[float], length_s: float) -> None:
    audio, sr = decode(path)
    assert sr == SAMPLE_RATE
    assert audio.shape[0] == round(length_s * sr)  # the LAME header lets the decoder trim to the exact length
    bell_s = bell_strike(SAMPLE_RATE).shape[0] / SAMPLE_RATE
    quiet_from = 0.0
    for start in bell_starts_s:
        ring = audio[int(start * sr) : int((start + 3.0) * sr)]
        assert rms_dbfs(ring) > -30, f"the bell at {start}s is not audible"
        if start > quiet_from:
            assert rms_dbfs(audio[int((quiet_from + 0.1) * sr) : int((start - 0.1) * sr)]) < -70
        quiet_from = start + bell_s
    if quiet_from < length_s:
        assert rms_dbfs(audio[int((quiet_from + 0.1) * sr) :]) < -70


def test_pauses_only_script_renders_a_silent_sit(tmp_path, out_dir, cache):
    script = write(tmp_path, "sit.yaml", "title: Silent sit\nsections:\n  - text: |\n      [bell] [pause 30s] [bell]\n")
    check = invoke("check", script)
    assert check.exit_code == 0 and check.stdout == f"ok  {script}: 1 section, 0 words, pauses from 30s, 2 bells, fits exactly 44s\n"
    bell_s = bell_strike(SAMPLE_RATE).shape[0] / SAMPLE_RATE
    length_s = 30.0 + 2 * bell_s
    result = render(script, out_dir / "sit.mp3", cache, "--length", f"{length_s * 1000:.0f}ms")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"{out_dir / 'sit.mp3'}  {format_duration(length_s)}  ")
    _bell_windows_audible_rest_silent(out_dir / "sit.mp3", [0.0, 30.0 + bell_s], length_s)
    assert sorted(p.name for p in out_dir.iterdir()) == ["old.mp3", "sit.mp3"]


def test_open_ended_silent_sit_fills_the_requested_length(tmp_path, out_dir, cache):
    script = write(tmp_path, "sit.md", "# Silent sit\n\n[bell]\n[pause 30s..]\n[bell]\n")
    result = render(script, out_dir / "sit.mp3", cache, "--length", "1m")
    assert result.exit_code == 0, result.stderr
    bell_s = bell_strike(SAMPLE_RATE).shape[0] / SAMPLE_RATE
    _bell_windows_audible_rest_silent(out_dir / "sit.mp3", [0.0, 60.0 - bell_s], 60.0)


def test_silent_sit_with_a_bed_is_bed_only(tmp_path, out_dir, cache):
    script = write(tmp_path, "sit.yaml", "title: Silent sit\nsections:\n  - text: '[pause 20s]'\n")
    result = render(script, out_dir / "sit.mp3", cache, "--background", "drone", "--no-bells")
    assert result.exit_code == 0, result.stderr
    audio, sr = decode(out_dir / "sit.mp3")
    assert audio.shape[0] == 20 * sr
    level = rms_dbfs(audio[sr : 19 * sr])
    assert -60 < level < -20, level


# ------------------------------------------------------------------------------------------------
# `attune check` on several files


def test_check_several_files(tmp_path, good):
    paws = write(tmp_path, "paws.yaml", SCRIPT_ERRORS["unknown-marker"][1])
    empty = write(tmp_path, "empty.yaml", "")
    md = write(tmp_path, "evening.md", "# Evening calm\n\n## Arriving\nWelcome. [breath]\n\n## Resting (optional)\nRest. [pause 1m..]\n")
    result = invoke("check", good, paws, md, empty)
    assert result.stdout == (
        f"ok  {good}: 1 section, 3 words, pauses from 2s, fits between 4s and 21s (an estimate from the words at 140 wpm)\n"
        f"ok  {md}: 2 sections (1 optional), 2 words, pauses from 1m6s, open-ended, fits exactly 6.6s, or 1m8s or longer (an estimate from the words at 140 wpm)\n"
    )
    assert result.stderr == (
        f"Error: {paws}:5: unknown marker [paws 5s] — did you mean [pause 5s]? {MARKERS_HINT}\n"
        f"Error: {empty}: script is empty — start it with `title: …` and a `sections:` list\n"
    )
    assert result.exit_code == 1


def test_check_all_good_exits_0(good, tmp_path):
    other = write(tmp_path, "other.txt", "---\ntitle: Other\n---\nHello there. [pause 5s]\n")
    result = invoke("check", good, other)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        f"ok  {good}: 1 section, 3 words, pauses from 2s, fits between 4s and 21s (an estimate from the words at 140 wpm)",
        f"ok  {other}: 1 section, 2 words, pauses from 5s, fits exactly 6s (an estimate from the words at 140 wpm)",
    ]


# ------------------------------------------------------------------------------------------------
# Docs: every command has help with an example


def test_top_level_help_has_an_example():
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout
    for name in cli.commands:
        assert name in result.stdout


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_with_an_example(name):
    command = cli.commands[name]
    assert command.help and command.help.strip(), f"`attune {name}` has no help text"
    assert command.short_help or command.help.strip().splitlines()[0]
    result = invoke(name, "--help")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Usage: attune {name} ")
    assert "Example" in result.stdout, f"`attune {name} --help` shows no example"
    assert f"attune {name}" in result.stdout.split("Example", 1)[1], f"the example of `attune {name}` does not run it"
