"""Where questionnaires and models live: the bundled ones, and a deployment's own folders (``PROFILER_PATH``).

The wheel carries ``questionnaires/`` and ``models/`` inside the package as ``profiler/_bundled/``; an
editable install or a checkout reads them from the project's top-level folders.

A deployment adds its own questionnaires, job models, norm groups and calibrations without touching the
installed package: ``PROFILER_PATH`` names one or more folders (separated like ``PATH``), each laid out as the
bundled ones (``questionnaires/<id>.yaml``, ``models/jobs/<id>.yaml``, ``models/<questionnaire>/norms/<name>.json``,
``models/<questionnaire>/irt/``, ...). Everything that looks up a bundled resource by id looks in them too, so
``profiler serve``, the API, the CLI and the library find them alike. An id is one file: the same id in two
places is an error naming both (an id is what the audit log records, so it must not be ambiguous).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from profiler.errors import ProfilerError

_PACKAGE = Path(__file__).resolve().parent
PATH_VARIABLE = "PROFILER_PATH"


class ResourceError(ProfilerError, LookupError):
    """``PROFILER_PATH`` names a folder that does not exist, or one id is defined in two places."""


def bundled_dir(kind: str) -> Path:
    """The folder of bundled ``questionnaires`` or ``models``."""
    if kind not in ("questionnaires", "models"):
        raise ValueError(f"unknown kind of bundled resource: {kind!r}")
    installed = _PACKAGE / "_bundled" / kind
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / kind


def resource_dirs(kind: str) -> list[Path]:
    """The folders of ``questionnaires`` or ``models`` that exist: the bundled one, then each ``PROFILER_PATH``
    folder's (in its order).

    Raises
    ------
    ResourceError
        A ``PROFILER_PATH`` entry is not a folder.
    """
    folders = [bundled_dir(kind)]
    for entry in os.environ.get(PATH_VARIABLE, "").split(os.pathsep):
        if not entry.strip():
            continue
        root = Path(entry).expanduser()
        if not root.is_dir():
            raise ResourceError(f"{PATH_VARIABLE} names {entry!r}, which is not a folder")
        folders.append(root / kind)
    return [folder for folder in folders if folder.is_dir()]


def by_id(paths: Iterable[Path], id_of, what: str) -> dict[str, Path]:
    """``{id_of(path): path}`` sorted by id; the same id from two files is a :class:`ResourceError`."""
    found: dict[str, Path] = {}
    for path in paths:
        key = id_of(path)
        if key in found and found[key] != path:
            raise ResourceError(f"{what} {key!r} is defined twice: {found[key]} and {path} (an id must name one "
                                f"file; rename one of them or take its folder out of {PATH_VARIABLE})")
        found[key] = path
    return dict(sorted(found.items()))


def model_files(pattern: str) -> list[Path]:
    """The files or folders matching ``pattern`` (a glob below ``models/``) in every models folder."""
    return [path for folder in resource_dirs("models") for path in sorted(folder.glob(pattern))]


def bundled_files(kind: str, suffix: str = ".yaml") -> dict[str, Path]:
    """Files of one kind by id (the file name without its suffix), sorted by id: the bundled ones and those in
    the ``PROFILER_PATH`` folders."""
    paths = [p for folder in resource_dirs(kind) for p in sorted(folder.rglob(f"*{suffix}"))]
    return by_id(paths, lambda p: p.name[: -len(suffix)], kind.rstrip("s"))


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
