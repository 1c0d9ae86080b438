"""Attune: offline guided-meditation audio, from a practice script to a finished track.

from pathlib import Path
import attune
settings = attune.TrackSettings(length_s=300, background="drone")
result = attune.render(attune.RenderRequest(Path("my-practice.yaml"), settings=settings))
print(result.output_path, result.duration_s, result.voice_lufs)

The rooms, lowest first; each imports only the rooms before it (a test keeps it so):

system/     files, child processes, ffmpeg, the cache and data folders; with errors.py (the one
            exception family), version.py, durations.py (`1m30s` ↔ seconds), slugs.py (safe names)
            and timebase.py (the one sample rate)
settings.py one frozen TrackSettings, checked and merged in one place; formats.py, the format table
script/     scripts in YAML, plain text or Markdown; library.py, the built-in practices and sounds
plan.py     fitting a script to a length: the timeline
audio/      beds, bells, the mixer, loudness and true peak
speech/     the engines, each in a worker process, the clip cache, each section's voice; recording/,
            a practitioner's take as the voice
media/      encoders, mastering, tags, captions, playlists
render.py   one track from a request (request.py: what is asked, and its fingerprint; audition.py,
            one clip per voice for `attune voices --sample`)
            align.py: where each sentence is in a practitioner's take (`attune align`)
delivery/   batches for clients: the runner, its executors and stores, pages, feeds, access
checks/     `attune check`, `attune batch --dry-run`, `attune doctor`
cli/        the `attune` command (and __main__.py, `python -m attune`)
"""

from .version import __version__

__all__ = ["AttuneError", "RenderRequest", "RenderResult", "TrackSettings", "__version__", "plan_script", "render"]


def __getattr__(name: str):
    # Imported lazily, so that light modules (the speech worker) do not load numpy and scipy.
    if name == "AttuneError":
        from .errors import AttuneError

        return AttuneError
    if name == "TrackSettings":
        from .settings import TrackSettings

        return TrackSettings
    if name == "RenderRequest":
        from .request import RenderRequest

        return RenderRequest
    if name in ("RenderResult", "plan_script", "render"):
        from . import render as _render

        return getattr(_render, name)
    raise AttributeError(name)
