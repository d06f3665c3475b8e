"""Finding norm tables: shipped ones by questionnaire id and name, or any artifact by path.

Shipped norms live beside the bundled models, one JSON artifact per norm group:
``models/<questionnaire id>/norms/<name>.json`` (``profiler/_bundled/models/...`` in an installed wheel).
"""

from __future__ import annotations

from pathlib import Path

from profiler.documents import did_you_mean
from profiler.norms.table import NormsError, NormsMismatchError, NormTable
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.resources import by_id, model_files


def bundled_norms(questionnaire_id: str) -> dict[str, Path]:
    """Names and paths of the norm groups shipped for a questionnaire (and in the ``PROFILER_PATH`` folders),
    sorted by name."""
    return by_id(model_files(f"{questionnaire_id}/norms/*.json"), lambda path: path.stem,
                 f"norm group of {questionnaire_id}")


def load_norms(questionnaire: Questionnaire | str, name: str | Path) -> NormTable:
    """Load a norm group: a shipped one by name (``load_norms("ipip-bfm-50", "general")``) or a JSON file.

    Parameters
    ----------
    questionnaire : Questionnaire or str
        The questionnaire (or its id). Given a :class:`Questionnaire`, the norms must have been built for
        its content hash.
    name : str or Path
        A shipped norm group's name, or the path of a norm table (``*.json``).

    Raises
    ------
    NormsError
        No such norm group (the shipped ones are listed), or an unreadable, malformed or edited file.
    NormsMismatchError
        Norms for another questionnaire, or for other content of this one.
    """
    qid = questionnaire if isinstance(questionnaire, str) else questionnaire.id
    candidate = Path(name)
    if candidate.suffix == ".json" or "/" in str(name) or "\\" in str(name):
        table = NormTable.read(candidate)
    else:
        shipped = bundled_norms(qid)
        if str(name) not in shipped:
            available = ", ".join(shipped) or "none"
            raise NormsError(
                f"no norm group {str(name)!r} for questionnaire {qid!r}{did_you_mean(str(name), shipped)}; "
                f"shipped: {available} (or give the path of a .json norm table)"
            )
        table = NormTable.read(shipped[str(name)])
    if isinstance(questionnaire, str):
        if table.questionnaire.questionnaire_id != qid:
            raise NormsMismatchError(
                f"norm group {table.name!r} is for questionnaire {table.questionnaire.questionnaire_id!r}, not {qid!r}"
            )
    else:
        table.check_applies_to(questionnaire)
    return table
