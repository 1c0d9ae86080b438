"""Find libespeak-ng for pyttsx3's espeak driver: the system's, else the `espeakng-loader` wheel's copy.

pyttsx3 opens the library by its soname (`libespeak-ng.so.1`). When the system has none, loading
the wheel's copy first (RTLD_GLOBAL) makes that lookup find it, and ESPEAK_DATA_PATH points
espeak-ng at the wheel's voice data. This must happen before pyttsx3 is imported.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.metadata
import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EspeakLibrary:
    """Where libespeak-ng comes from: `source` is "system" or "espeakng-loader"."""

    source: str
    library_path: str
    data_path: str | None


@functools.cache
def find_espeak() -> EspeakLibrary | None:
    """The libespeak-ng Attune will use on Linux, or None (other platforms, or none at all)."""
    if not sys.platform.startswith("linux"):
        return None
    system = _system_espeak()
    if system:
        return EspeakLibrary("system", system, os.environ.get("ESPEAK_DATA_PATH"))
    try:
        import espeakng_loader
    except ImportError:
        return None
    library = espeakng_loader.get_library_path()
    if not Path(library).exists():
        return None
    return EspeakLibrary("espeakng-loader", library, espeakng_loader.get_data_path())


#: The soname pyttsx3's espeak driver opens first on Linux.
ESPEAK_SONAME = "libespeak-ng.so.1"


def _system_espeak() -> str | None:
    """The system's libespeak-ng, opened as pyttsx3 opens it (by its soname, through the dynamic loader), or None.

    Not `ctypes.util.find_library`: where the system has no espeak-ng it runs ldconfig, then gcc and ld,
    four processes at every speech worker's start (78 of them in one `make test`)."""
    try:
        ctypes.CDLL(ESPEAK_SONAME)
    except OSError:
        return None
    return ESPEAK_SONAME


def load_espeak() -> EspeakLibrary | None:
    """Make libespeak-ng loadable by pyttsx3 (call before importing pyttsx3)."""
    lib = find_espeak()
    if lib is not None and lib.source == "espeakng-loader":
        os.environ["ESPEAK_DATA_PATH"] = lib.data_path or ""
        ctypes.CDLL(lib.library_path, mode=ctypes.RTLD_GLOBAL)
    return lib


def espeak_variants() -> list[str]:
    """The voice variants (`+f3`, `+m2`, `+whisper`…) shipped with the espeak-ng data in use."""
    folder = _variants_folder()
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder is not None else []


def espeak_variant_details() -> list[tuple[str, str, str | None]]:
    """Every variant as (file name, the name it gives itself, the gender it declares or None)."""
    folder = _variants_folder()
    details = []
    for variant in espeak_variants():
        name, gender = variant, None
        try:
            for line in (folder / variant).read_text("utf-8", "replace").splitlines() if folder is not None else []:
                key, _, value = line.strip().partition(" ")
                if key == "name" and value.strip():
                    name = value.strip()
                elif key == "gender" and value.strip():
                    gender = value.strip().split()[0].lower()
        except OSError:
            pass
        details.append((variant, name, gender))
    return details


def _variants_folder() -> Path | None:
    lib = find_espeak()
    candidates = []
    if lib is not None and lib.data_path:
        candidates.append(Path(lib.data_path) / "voices" / "!v")
    candidates += [Path("/usr/share/espeak-ng-data/voices/!v"), Path("/usr/lib/x86_64-linux-gnu/espeak-ng-data/voices/!v")]
    for folder in candidates:
        if folder.is_dir():
            return folder
    return None


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def engine_description() -> str:
    """Which engine pyttsx3 will drive here, e.g. `pyttsx3 2.99, espeak-ng (espeakng-loader 0.2.4)`."""
    lib = find_espeak()
    if lib is not None:
        origin = (
            f"espeakng-loader {_version('espeakng-loader')}"
            if lib.source == "espeakng-loader"
            else f"system {os.path.realpath(lib.library_path) if os.path.exists(lib.library_path) else lib.library_path}"
        )
        return f"pyttsx3 {_version('pyttsx3')}, espeak-ng ({origin})"
    driver = {"win32": "sapi5", "darwin": "nsss"}.get(sys.platform, "espeak (libespeak-ng not found)")
    return f"pyttsx3 {_version('pyttsx3')}, {driver}"
