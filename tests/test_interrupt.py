"""SIGINT and SIGTERM on real renders: exit 130 at once, one `Error: interrupted…` line, nothing left behind.

Each test starts `python -m attune` in its own session, waits until it is really working (the
encoder's `.part` file and ffmpeg exist, or the speech worker is speaking), sends the signal, then
checks the exit code and time, stderr, the output folder (no `*.part`, an earlier output byte for
byte), and that every child process it had (ffmpeg, the speech worker, pool workers) is gone.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from attune.speech.cache import read_clip_file
from helpers.audio import decode
from helpers.batch import access_of
from helpers.procs import cpu_s, descendants, still_running

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads child processes from /proc"),
]

SCRIPT = """\
title: Evening calm
sections:
  - name: Arriving
    text: |
      Welcome. Let the body settle. [pause 5s..]
      Rest here, breathing easily.
"""
OLD_BYTES = b"ID3 an earlier render that must survive an interrupted one\n"
INTERRUPTED = "Error: interrupted — no partial file was left; finished outputs are intact"
#: How long a render may take to get going on a busy machine, and to stop once signalled.
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 5.0
#: Long enough that encoding lasts seconds; short enough that the measuring pass before it is quick.
LENGTH = "3m"


@pytest.fixture
def work(tmp_path) -> Path:
    """A folder whose name is unique to this test, so its processes can be found by their command lines."""
    folder = tmp_path / f"attune-interrupt-{uuid.uuid4().hex[:12]}"
    folder.mkdir()
    (folder / "practice.yaml").write_text(SCRIPT, encoding="utf-8")
    return folder


# -- processes ------------------------------------------------------------------------------------


def pgrep(marker: str) -> list[str]:
    """Command lines of every process mentioning `marker` (ffmpeg names the output path in its own)."""
    result = subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True)
    return [line for line in result.stdout.splitlines() if line.strip() and "pgrep" not in line]


class Run:
    """`python -m attune ARGS` in its own session, with its children tracked."""

    def __init__(self, args: list, cwd: Path, env: dict | None = None):
        # Ctrl-C must reach it even when pytest itself was started with SIGINT ignored (a background job).
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "attune", *map(str, args)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.children: dict[int, str] = {}
        # Both pipes are read as they come, so a test can wait for what the program has said (a progress line).
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._readers = [threading.Thread(target=_read_lines, args=(pipe, lines), daemon=True)
                         for pipe, lines in ((self.proc.stdout, self._out), (self.proc.stderr, self._err))]  # fmt: skip
        for reader in self._readers:
            reader.start()

    @property
    def stderr_so_far(self) -> str:
        return b"".join(list(self._err)).decode(errors="replace")

    def _finish(self, timeout: float | None = None) -> tuple[str, str]:
        self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        return b"".join(self._out).decode(errors="replace"), self.stderr_so_far

    def wait_until(self, ready, what: str) -> None:
        """Poll `ready()` (recording children as they come) until it holds; fail if the run ends first."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            self.children.update(descendants(self.proc.pid))
            if ready():
                self.children.update(descendants(self.proc.pid))
                return
            if self.proc.poll() is not None:
                out, err = self._finish()
                pytest.fail(f"the run ended (exit {self.proc.returncode}) before {what}:\n{out}{err}")
            time.sleep(0.02)
        pytest.fail(f"not {what} within {START_TIMEOUT_S:.0f}s")

    def has_child(self, fragment: str) -> bool:
        return any(fragment in cmd for cmd in descendants(self.proc.pid).values())

    def signal(self, signum: int, *, group: bool = False) -> tuple[int, float, str, str]:
        """Send `signum` (to the whole process group, as a terminal's Ctrl-C does, when `group`); wait for the exit."""
        start = time.monotonic()
        (os.killpg if group else os.kill)(self.proc.pid, signum)
        try:
            out, err = self._finish(timeout=60)
        finally:
            self.kill()
        return self.proc.returncode, time.monotonic() - start, out, err

    def kill(self) -> None:
        """Clean up whatever is left (after a failed test)."""
        if self.proc.poll() is None:
            with_suppressed(os.killpg, self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for pid in still_running(self.children):
            with_suppressed(os.kill, pid, signal.SIGKILL)


def _read_lines(pipe, lines: list[bytes]) -> None:
    for line in iter(pipe.readline, b""):
        lines.append(line)


def with_suppressed(fn, *args) -> None:
    try:
        fn(*args)
    except OSError:
        pass


@pytest.fixture
def runs():
    started: list[Run] = []

    def start(args: list, cwd: Path, env: dict | None = None) -> Run:
        started.append(Run(args, cwd, env))
        return started[-1]

    yield start
    for run in started:
        run.kill()


def parts(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.part"))


def assert_interrupted(code: int, elapsed_s: float, stdout: str, stderr: str) -> None:
    assert code == 130, stderr
    assert elapsed_s < STOP_TIMEOUT_S, f"took {elapsed_s:.1f}s to stop"
    assert stderr == INTERRUPTED + "\n"
    assert stdout == ""


# -- one render -----------------------------------------------------------------------------------


@pytest.mark.parametrize("signum, group", [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["SIGINT", "SIGTERM"])
def test_render_interrupted_while_encoding(signum, group, work, cache, runs):
    out_dir = work / "out"
    out_dir.mkdir()
    target = out_dir / "practice.mp3"
    target.write_bytes(OLD_BYTES)
    run = runs(["render", work / "practice.yaml", "-o", target, "--length", LENGTH, "--background", "brown-noise", "--cache-dir", cache], work)
    # The encoder is the ffmpeg that names the temporary output (short-lived ones measure and calibrate).
    encoder = f"{out_dir}/.practice.mp3."
    run.wait_until(lambda: parts(out_dir) and run.has_child(encoder), "encoding")
    assert any(encoder in cmd and "ffmpeg" in cmd for cmd in run.children.values())

    assert_interrupted(*run.signal(signum, group=group))
    assert sorted(p.name for p in out_dir.iterdir()) == ["practice.mp3"]
    assert target.read_bytes() == OLD_BYTES
    assert still_running(run.children) == {}
    assert pgrep(work.name) == []


def test_render_interrupted_while_speaking(work, runs, tmp_path):
    """The speech worker is stopped too; sentences already synthesised stay in the cache, whole."""
    sentences = " ".join(f"This is calm sentence number {n}, spoken slowly." for n in range(1, 61))
    (work / "long.yaml").write_text(f"title: Many sentences\nsections:\n  - text: |\n      {sentences}\n", encoding="utf-8")
    target = work / "long.mp3"
    target.write_bytes(OLD_BYTES)
    cache = tmp_path / "fresh-cache"
    run = runs(["render", work / "long.yaml", "-o", target, "--cache-dir", cache], work)
    run.wait_until(lambda: run.has_child("attune.speech.engines.pyttsx3_worker") and len(list(cache.rglob("*.npy"))) >= 2, "speaking")
    assert any("attune.speech.engines.pyttsx3_worker" in cmd for cmd in run.children.values())

    assert_interrupted(*run.signal(signal.SIGINT, group=True))
    assert target.read_bytes() == OLD_BYTES
    assert sorted(p.name for p in work.iterdir()) == ["long.mp3", "long.yaml", "practice.yaml"]
    assert still_running(run.children) == {}
    assert len(list(cache.rglob("*.npy"))) < 60
    assert parts(cache) == []


# -- a first neural render: an empty cache -----------------------------------------------------------

#: (engine, moment): when the signal is sent. "starting": the engine's worker process has just appeared
#: (importing onnxruntime, loading the model); "measuring": it is measuring the voice's pace (the
#: shipped table is ignored, as for a voice of one's own); "speaking": the first clip is in the cache.
FIRST_RENDERS = [
    pytest.param("piper", "measuring", id="piper-measuring"),
    # The other moments and engines cost 5-10 s each: `make test-long`.
    *(pytest.param(e, m, id=f"{e}-{m}", marks=pytest.mark.long) for e, m in [("piper", "starting"), ("piper", "speaking"), ("hibari", "measuring"), ("pico", "measuring")]),
]
#: CPU seconds a worker has used when it is surely measuring (its imports and model load cost less).
MEASURING_CPU_S = {"piper": 1.5, "hibari": 1.5, "pico": 0.3}


@pytest.mark.parametrize("engine, moment", FIRST_RENDERS)
def test_a_first_neural_render_stops_at_once(engine, moment, work, runs, tmp_path):
    """Ctrl-C on a first render with an empty cache (the 13-66 s wait of a pace measurement, before):
    exit 130 at once, the worker killed, no output, no temporary file, no clip or pace half-written."""
    pytest.importorskip({"piper": "piper", "hibari": "hibari", "pico": "py_nanotts"}[engine])
    sentences = " ".join(f"This is calm sentence number {n}, spoken slowly." for n in range(1, 41))
    (work / "long.yaml").write_text(f"title: Many sentences\nsections:\n  - text: |\n      {sentences}\n", encoding="utf-8")
    cache, scratch = tmp_path / "empty-cache", tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch), ATTUNE_SPEECH_JOBS="2")
    if moment == "measuring":
        env["ATTUNE_MEASURE_PACE"] = "1"
    run = runs(["render", work / "long.yaml", "-o", work / "long.mp3", "--engine", engine, "--cache-dir", cache], work, env)
    marker = f"attune.speech.engines.{engine}_worker"

    def workers() -> list[int]:
        return [pid for pid, cmd in descendants(run.proc.pid).items() if marker in cmd]

    ready = {
        "starting": lambda: bool(workers()),
        "measuring": lambda: any(cpu_s(pid) >= MEASURING_CPU_S[engine] for pid in workers()),
        "speaking": lambda: bool(workers()) and bool(list(cache.rglob("*.npy"))),
    }[moment]
    run.wait_until(ready, moment)
    clips_before = len(list(cache.rglob("*.npy")))

    assert_interrupted(*run.signal(signal.SIGINT, group=True))
    assert sorted(p.name for p in work.iterdir()) == ["long.yaml", "practice.yaml"]
    assert still_running(run.children) == {} and pgrep(work.name) == []
    # The engines' scratch folders are gone too (onnxruntime keeps a session id, `.ses`, in any run).
    assert [p.name for p in scratch.iterdir() if p.name != ".ses"] == []
    assert parts(cache) == [] and not [p for p in cache.rglob("*") if p.is_file() and p.suffix not in (".npy", ".json", ".lock")]
    clips = list(cache.rglob("*.npy"))
    assert all(read_clip_file(p) is not None for p in clips) and len(clips) < 40
    if moment == "measuring" and engine == "piper":  # stopped mid-measurement: no pace was stored
        assert not (cache / "speech" / "piper-pace.json").exists() and clips == []
    if moment == "speaking":
        assert len(clips) >= clips_before


# -- a batch --------------------------------------------------------------------------------------

ROSTER = """\
practitioner: Test Teacher
title: Evening practice
defaults: {background: brown-noise}
clients:
  - name: Ana
    tracks:
      - script: practice.yaml
        length: 15s
  - name: Bo
    tracks:
      - script: practice.yaml
        length: %s
"""


@pytest.mark.parametrize("signum, group", [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["Ctrl-C", "SIGTERM"])
def test_batch_interrupted(signum, group, work, cache, runs):
    """Ctrl-C reaches the whole process group (pool workers too); SIGTERM only the parent, which stops its workers."""
    (work / "roster.yaml").write_text(ROSTER % "4m", encoding="utf-8")
    out = work / "deliver"
    run = runs(["batch", work / "roster.yaml", "-o", out, "--jobs", "2", "--cache-dir", cache], work)

    def kept(client: str) -> Path | None:
        try:
            return out / "tracks" / access_of(out)[client]["id"]
        except (OSError, ValueError, KeyError):
            return None  # the batch has not written access.json yet

    # Bo's ffmpeg (a pool worker's child) is named by its output, the temporary file in Bo's folder.
    # Ana's track is finished when the batch has said so (its file appears a moment before the batch
    # has collected it from the worker).
    run.wait_until(lambda: "Ana / 01-practice: rendered" in run.stderr_so_far and kept("Bo") is not None
                   and run.has_child(f"{kept('Bo')}/.01-practice.mp3."), "one track finished and the other encoding")  # fmt: skip
    finished = kept("Ana") / "01-practice.mp3"
    before = finished.read_bytes()

    code, elapsed_s, _, stderr = run.signal(signum, group=group)
    assert code == 130 and elapsed_s < STOP_TIMEOUT_S, stderr
    assert stderr.splitlines()[-1] == ("Error: interrupted — published 1 client whose tracks all finished (Ana); "
                                       "not published: Bo — a re-run completes them; no partial file was left")  # fmt: skip
    assert parts(out) == [] and not [p for p in out.rglob(".*") if p.name != ".attune-probe"]
    assert finished.read_bytes() == before
    audio, sr = decode(finished)
    assert audio.shape[0] == 15 * sr
    assert not (kept("Bo") / "01-practice.mp3").exists() and not kept("Bo").exists()  # no empty folder either
    # Ana's tracks all finished: she is published; Bo is not.
    assert (out / "public" / access_of(out)["Ana"]["token"] / "01-practice.mp3").read_bytes() == before
    assert not (out / "public" / access_of(out)["Bo"]["token"]).exists()
    # The manifest lists what the batch had collected when it stopped: Ana's track, never Bo's.
    listed = {t["files"]["mp3"]["path"]: t for t in json.loads((out / "manifest.json").read_text("utf-8"))["tracks"]}
    assert set(listed) == {finished.relative_to(out).as_posix()}
    for entry in listed.values():
        assert entry["files"]["mp3"]["sha256"] == hashlib.sha256(before).hexdigest()
    assert still_running(run.children) == {}
    assert pgrep(work.name) == []


# -- a signal that lands while ffmpeg is being started ----------------------------------------------


def test_interrupt_while_ffmpeg_starts_leaves_no_part(tmp_path, cache, monkeypatch, request):
    """A real SIGINT that lands while the encoder's Popen is running (after the fork): it is held back
    until Popen returns, then the new ffmpeg is stopped before the interrupt goes on, so no orphan can
    recreate the temporary `.part` after the cleanup removed it."""
    from click.testing import CliRunner

    import attune.system.procs
    from attune.cli import cli

    started: list[subprocess.Popen] = []

    class SignalledPopen(subprocess.Popen):
        def __init__(self, args, *a, **kw):
            super().__init__(args, *a, **kw)
            if "pipe:0" in args and any(str(a).endswith(".part") for a in args):  # the encoder, fed on stdin, writing the temporary file
                started.append(self)
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, after the fork, before Popen returns

    monkeypatch.setattr(attune.system.procs.subprocess, "Popen", SignalledPopen)
    # Ctrl-C handled as the console script handles it, even if this test run inherited SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    (tmp_path / "practice.yaml").write_text(SCRIPT, encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = CliRunner().invoke(
        cli, ["render", str(tmp_path / "practice.yaml"), "-o", str(out_dir / "p.mp3"), "--length", "20s", "--cache-dir", str(cache)], prog_name="attune"
    )
    assert result.exit_code == 130
    assert len(started) == 1
    assert started[0].poll() is not None  # stopped, not orphaned
    assert parts(out_dir) == []
