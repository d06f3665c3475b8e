"""Where bundled questionnaires and models live, in a checkout and in an installed wheel.

The wheel carries ``questionnaires/`` and ``models/`` inside the package as ``profiler/_bundled/``; an
editable install or a checkout reads them from the project's top-level folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(kind: str) -> Path:
    """The folder of bundled ``questionnaires`` or ``models``."""
    if kind not in ("questionnaires", "models"):
        raise ValueError(f"unknown kind of bundled resource: {kind!r}")
    installed = _PACKAGE / "_bundled" / kind
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / kind


def bundled_files(kind: str, suffix: str = ".yaml") -> dict[str, Path]:
    """Bundled files of one kind by id (the file name without its suffix), sorted by id."""
    folder = bundled_dir(kind)
    if not folder.is_dir():
        return {}
    return {p.name[: -len(suffix)]: p for p in sorted(folder.rglob(f"*{suffix}"))}
