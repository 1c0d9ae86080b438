"""Attune: offline guided-meditation audio, from a practice script to a finished track.

from pathlib import Path
import attune
settings = attune.TrackSettings(length_s=300, background="drone")
result = attune.render(attune.RenderRequest(Path("my-practice.yaml"), settings=settings))
print(result.output_path, result.duration_s, result.voice_lufs)
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
