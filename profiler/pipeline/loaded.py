"""Documents loaded once per process: what a server needs on every request is not parsed again each time.

Parsing and validating a job model (its YAML, its questionnaire's YAML) and a validity calibration (its JSON
and its seal) took about 200 ms of CPU per finished session and 70 ms per consent page in ``profiler
serve``, more than the candidate's 50 answers together. Here they are kept:

- stored questionnaires by content hash (the hash is of the content, so an entry never goes stale);
- the adaptive plan of a stored questionnaire (its item banks) by content hash;
- job models and validity calibrations by their file, loaded again when the file changes (its size or
  modification time), so an edited file is picked up without a restart.

The objects are shared between requests and threads: nothing in profiler changes a Questionnaire, a JobModel
or a ValidityCalibration once built (their derived values are cached properties, computed on first use).
Errors are those of the loaders (:func:`~profiler.jobmodel.load_job_model`, ...): a failed load is not kept.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from threading import Lock
from typing import Any, TypeVar

from profiler.administration import records as session_records
from profiler.administration.validity import (
    ValidityCalibration,
    bundled_validity_calibrations,
    load_validity_calibration,
)
from profiler.jobmodel import JobModel, load_job_model
from profiler.jobmodel.loader import bundled_job_models
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.resources import PATH_VARIABLE, resolve
from profiler.store.store import Store

T = TypeVar("T")
SIZE = 64


class _Cache:
    """A small thread-safe LRU (two threads missing the same key both build it; the second is kept)."""

    def __init__(self, size: int = SIZE):
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)


_QUESTIONNAIRES = _Cache()
_FILES = _Cache()
_BUNDLED: dict[str, dict[str, Path]] = {}  # what the bundled folders hold, looked up once


def stored_questionnaire(store: Store, content_hash: str) -> Questionnaire | None:
    """The questionnaire stored in ``store`` under ``content_hash`` (None when absent; absence is not kept)."""
    key = (store.name, content_hash)

    def build() -> Questionnaire | None:
        with store.read() as connection:
            return session_records.load_questionnaire(connection, content_hash)

    found = _QUESTIONNAIRES.get(key, build)
    if found is None:
        _QUESTIONNAIRES.forget(key)  # it may be stored later
    return found


def adaptive_plan(questionnaire: Questionnaire) -> Any:
    """The questionnaire's :class:`~profiler.cat.plan.AdaptivePlan` (its banks read once), or None when it is
    not adaptive."""
    if not questionnaire.spec.administration.adaptive:
        return None
    from profiler.cat.plan import adaptive_plan as build  # only adaptive questionnaires need the CAT engine

    return _FILES.get(("adaptive plan", questionnaire.content_hash), lambda: build(questionnaire))


def job_model(path_or_id: str | Path) -> JobModel:
    """:func:`~profiler.jobmodel.load_job_model`, loaded again only when its file changes."""
    bundled = _bundled("jobs", bundled_job_models)
    try:
        path, _ = resolve(path_or_id, bundled, "job model")
    except LookupError:
        return load_job_model(path_or_id)  # raises the loader's error
    return _FILES.get(("job model", str(path_or_id), *_state(path)), lambda: load_job_model(path_or_id))


def validity_calibration(questionnaire: Questionnaire) -> ValidityCalibration | None:
    """The bundled validity calibration of ``questionnaire`` (what ``calibration="bundled"`` loads), or None."""
    path = _bundled("validity", bundled_validity_calibrations).get(questionnaire.id)
    if path is None:
        return None
    return _FILES.get(("validity", str(path), *_state(path)), lambda: load_validity_calibration(path))


def _bundled(kind: str, listing: Callable[[], dict[str, Path]]) -> dict[str, Path]:
    key = f"{kind}:{os.environ.get(PATH_VARIABLE, '')}"  # the deployment's folders are part of what is listed
    found = _BUNDLED.get(key)
    if found is None or any(not p.exists() for p in found.values()):
        found = _BUNDLED[key] = listing()
    return found


def _state(path: Path) -> tuple[int, int]:
    """What tells a changed file: its size and modification time (0, 0 when it cannot be read)."""
    try:
        info = os.stat(path)
    except OSError:
        return 0, 0
    return info.st_size, info.st_mtime_ns


__all__ = ["job_model", "stored_questionnaire", "validity_calibration"]
