"""Attune: offline guided-meditation audio, from a practice script to a finished track.

    from pathlib import Path
    import attune
    result = attune.render(attune.RenderRequest(Path("scripts/arriving.yaml"), length_s=300))
    print(result.output_path, result.duration_s)
"""

__version__ = "0.1.0"

__all__ = ["AttuneError", "RenderRequest", "RenderResult", "plan_script", "render", "__version__"]


def __getattr__(name: str):
    # Imported lazily, so that light modules (the speech worker) do not load numpy and scipy.
    if name == "AttuneError":
        from .errors import AttuneError

        return AttuneError
    if name in ("RenderRequest", "RenderResult", "plan_script", "render"):
        from . import render as _render

        return getattr(_render, name)
    raise AttributeError(name)
