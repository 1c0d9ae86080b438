"""The speech worker: a child process that owns the pyttsx3 engine.

pyttsx3's engines run in-process and are known to hang or to write empty or truncated files
(pyttsx3 issues #142, #194, #283). Running the engine in a child process lets the parent put a
time limit on every request and kill a hung engine without losing itself.

Protocol: one JSON object per line on stdin, one JSON reply per line on stdout.
    {"op": "hello"}                                   -> {"ok": true, "driver": "espeak", ...}
    {"op": "voices"}                                  -> {"ok": true, "voices": [{id, name, languages, gender}]}
    {"op": "synth", "text", "voice", "rate_wpm", "pitch", "path"} -> {"ok": true} | {"ok": false, "error": "..."}
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

from attune.speech.engines.protocol import open_protocol, reply, serve


def _settle(espeak) -> None:
    """Block until espeak-ng has finished all queued synthesis (and its callbacks have run).

    pyttsx3's espeak driver synthesises asynchronously and cancels "still playing" audio when the
    next loop starts; synchronising after every utterance keeps one utterance from cutting off the
    next, which otherwise happens about once in a few hundred sentences."""
    if espeak is not None:
        espeak.Synchronize()


def _wait_for_file(driver, path: str, timeout_s: float) -> bool:
    """pyttsx3's espeak driver can return from runAndWait before its callback has written the file
    (the first utterance of a process is written asynchronously). Wait until the driver is idle and
    the file exists with a stable size."""
    deadline = time.monotonic() + timeout_s
    last_size = -1
    while time.monotonic() < deadline:
        busy = bool(getattr(driver, "_speaking", False))
        if not busy and os.path.exists(path):
            size = os.path.getsize(path)
            if size == last_size and size > 44:
                return True
            last_size = size
        time.sleep(0.005)
    return False


def main() -> int:
    protocol = open_protocol()  # pyttsx3 prints progress ("Audio saved to …") on stdout

    from attune.speech.engines.espeak import load_espeak

    lib = load_espeak()
    try:
        import pyttsx3

        engine = pyttsx3.init()
    except Exception as exc:  # any engine start-up failure is reported, not raised
        reply(protocol, {"ok": False, "error": f"the speech engine could not start: {exc}"})
        return 1
    driver = engine.proxy._driver
    driver_name = type(driver).__module__.rsplit(".", 1)[-1]
    espeak = None
    if driver_name == "espeak":
        from pyttsx3.drivers import _espeak

        espeak = _espeak
    errors: list[str] = []
    engine.connect("error", lambda name=None, exception=None: errors.append(str(exception)))

    def handle(request: dict) -> dict:
        op = request.get("op")
        if op == "hello":
            return {"ok": True, "driver": driver_name, "library": lib.library_path if lib else None, "pyttsx3": getattr(pyttsx3, "__version__", None)}
        if op == "voices":
            voices = [{"id": v.id, "name": v.name, "languages": [str(x) for x in (v.languages or [])], "gender": v.gender} for v in engine.getProperty("voices")]
            return {"ok": True, "voices": voices}
        if op != "synth":
            return {"ok": False, "error": f"unknown op {op!r}"}
        errors.clear()
        path = request["path"]
        engine.setProperty("voice", request["voice"])
        engine.setProperty("rate", round(request["rate_wpm"]))
        if request.get("pitch") is not None:
            engine.setProperty("pitch", int(request["pitch"]))
        if errors:
            return {"ok": False, "error": errors[-1]}
        _settle(espeak)
        if espeak is not None:
            # espeak-ng applies parameters through its command queue, and a process's first utterance
            # sometimes came out at pyttsx3's initial 200 wpm (one run in five): the rate is set again
            # on the library itself, settled, right before speaking.
            espeak.SetParameter(espeak.RATE, round(request["rate_wpm"]), 0)
            _settle(espeak)
        # One retry: a cut-off utterance leaves no file; a second attempt on a settled engine
        # succeeds. The parent still validates the audio and never accepts silence.
        for attempt_timeout_s in (min(10.0, float(request.get("timeout_s", 30)) / 3), float(request.get("timeout_s", 30))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            engine.save_to_file(request["text"], path)
            engine.runAndWait()
            _settle(espeak)
            if _wait_for_file(driver, path, attempt_timeout_s):
                break
        return {"ok": False, "error": errors[-1]} if errors else {"ok": True}

    return serve(protocol, handle)


if __name__ == "__main__":
    sys.exit(main())
