"""What a render is asked to do (`RenderRequest`), and a fingerprint of everything that decides its output.

Kept apart from the renderer, and light to import (no numpy, no scipy): a batch's parent process
builds requests and compares fingerprints while its worker processes do the rendering.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import AttuneError
from .library import resolve_script
from .settings import TrackSettings
from .system.files import sha256_file
from .version import __version__


@dataclass(frozen=True)
class RenderRequest:
    """Everything a render needs.

    `settings` are the caller's (command-line flags, or a roster track's): they win over the
    script's own settings, which win over Attune's defaults. The other fields say how the file is
    labelled and what goes beside it.
    """

    script_path: Path
    output_path: Path | None = None
    settings: TrackSettings = field(default_factory=TrackSettings)
    captions: bool = False
    cover: Path | None = None
    artist: str | None = None
    album: str | None = None
    track: tuple[int, int] | None = None
    #: The track's title (None: the script's own).
    title: str | None = None
    #: Also write each section as a file of its own, with an .m3u8 playlist.
    split_sections: bool = False
    #: Render only these sections (by name), pauses at their minimum, no length fitting (`--section`).
    sections: tuple[str, ...] = ()
    #: Each interval bell also starts a chapter (`--bell-chapters`).
    bell_chapters: bool = False


def _file_digest(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def _settings_layers(request: RenderRequest) -> Iterator[TrackSettings]:
    """The request's settings, then the script's and each section's own (the script parsed once; a
    script that cannot be read gives the request's alone: the render reports it, and its bytes are in
    the fingerprint anyway)."""
    yield request.settings
    from .script import load_script  # yaml only: still light

    try:
        script = load_script(resolve_script(request.script_path), request.settings.vars)
    except AttuneError:
        return
    yield script.settings
    for section in script.sections:
        yield section.settings


def input_files(request: RenderRequest) -> list[Path]:
    """Every file a render of `request` reads besides the speech cache: the script, each sound file
    a background names (the request's, the script's or a section's), each take it speaks with, the cover."""
    from .audio.background import parse_background  # light: no numpy (files are looked up, not decoded)

    layers = list(_settings_layers(request))
    files = [resolve_script(request.script_path)]
    for background in (layer.background for layer in layers if layer.background is not None):
        try:
            spec = parse_background(background.value, base_dir=background.base_dir, verify=False)
        except AttuneError:
            continue
        if spec is not None and spec.path is not None:
            files.append(spec.path)
    files += [layer.recording.file for layer in layers if layer.recording is not None and layer.recording.file.is_file()]
    if request.cover is not None:
        files.append(Path(request.cover))
    return files


#: What a render asks of its speech engine: (engine, voice, language, speaker).
SpeechAsk = tuple[str, "str | None", "str | None", "str | None"]


def speech_ask(request: RenderRequest) -> SpeechAsk:
    """The engine, voice, language and speaker the render will ask for: the request's over the
    script's (a script that cannot be read asks for the request's alone; the render reports it)."""
    from .script import load_script  # yaml only: still light
    from .settings import DEFAULT_ENGINE

    settings, language = request.settings, None
    try:
        script = load_script(resolve_script(request.script_path), request.settings.vars)
        from .speech.choice import chosen  # light: package files and JSON configs

        settings, language = chosen(settings, script)[0], script.language
    except AttuneError:
        pass  # the render reports the script's problem; its bytes are in the fingerprint anyway
    if settings.recording is not None:
        from .settings import RECORDING_ENGINE

        return (RECORDING_ENGINE, str(settings.recording.file), language, None)
    return (settings.engine or DEFAULT_ENGINE, settings.voice, language, settings.speaker)


def identity_of(ask: SpeechAsk) -> str:
    """The speech identity, on this machine, of what `ask` asks for (`attune.speech.engines.engine_identity`)."""
    from .speech.engines import engine_identity

    engine, voice, language, speaker = ask
    try:
        return engine_identity(engine, voice, language) + (f"; speaker {speaker}" if speaker else "")
    except AttuneError as exc:
        return f"unavailable: {exc}"


def speech_identity(request: RenderRequest) -> str:
    """The speech engine the render will use, with its versions and (Piper) its voice model's hash."""
    return identity_of(speech_ask(request))


def request_fingerprint(request: RenderRequest) -> str:
    """A content hash of everything that decides the output: every input file's bytes, the settings,
    the labels, the speech engine and Attune's version."""
    labels = asdict(request)
    for name in ("output_path", "settings", "script_path", "cover"):
        labels.pop(name)
    # Contents only: the same inputs in another folder (or on another machine) are the same render.
    files = [_file_digest(path) for path in input_files(request)]
    material = json.dumps([__version__, speech_identity(request), request.settings.fingerprint(), labels, files], sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()
