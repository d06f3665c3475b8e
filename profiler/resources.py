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


def resolve(path_or_id: str | Path, bundled: dict[str, Path], what: str) -> tuple[Path, str]:
    """A file path for ``path_or_id`` and a label of where it came from (``bundled:<id>`` or the path).

    Anything that looks like a path (a ``.yaml``/``.yml`` suffix, a ``/``, or an existing file) is taken as
    one; otherwise it must be the id of a bundled file.

    Raises
    ------
    LookupError
        Neither a file nor a bundled id; the message names the closest bundled id and lists them.
    """
    from profiler.documents import did_you_mean

    candidate = Path(path_or_id)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists() or "/" in str(path_or_id):
        return candidate, str(candidate)
    if str(path_or_id) in bundled:
        return bundled[str(path_or_id)], f"bundled:{path_or_id}"
    raise LookupError(f"no such file or bundled {what}{did_you_mean(str(path_or_id), bundled)}; "
                      f"bundled: {', '.join(bundled) or 'none'}")
