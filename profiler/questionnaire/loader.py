"""Loading questionnaires: from a path or a bundled id, with every problem reported at once."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from profiler.documents import pydantic_errors, sort_details
from profiler.errors import ErrorDetail, QuestionnaireError
from profiler.questionnaire.hints import leading_hints
from profiler.questionnaire.spec import QuestionnaireSpec
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.questionnaire.references import check_references
from profiler.resources import bundled_files, resolve
from profiler.yamlsource import YamlDocument, YamlSourceError, parse_yaml, read_yaml_file


def bundled_questionnaires() -> dict[str, Path]:
    """Ids and paths of the questionnaires shipped with profiler."""
    return {qid: path for qid, path in bundled_files("questionnaires").items() if qid != "schema"}


def resolve_questionnaire_path(path_or_id: str | Path) -> tuple[Path, str]:
    """A file path for a path or bundled id, and a label for where it came from."""
    try:
        return resolve(path_or_id, bundled_questionnaires(), "questionnaire")
    except LookupError as exc:
        raise QuestionnaireError([ErrorDetail(str(path_or_id), 0, 0, "", str(exc))]) from None


def load_questionnaire(path_or_id: str | Path) -> Questionnaire:
    """Load and validate a questionnaire from a YAML file or a bundled id such as ``"ipip-bfm-50"``.

    Raises
    ------
    QuestionnaireError
        With every problem found, each located by file, line and column.
    """
    path, source = resolve_questionnaire_path(path_or_id)
    try:
        doc = read_yaml_file(path)
    except YamlSourceError as exc:
        raise QuestionnaireError(exc.errors) from None
    return _build(doc, source)


def parse_questionnaire(text: str, file: str = "<string>") -> Questionnaire:
    """Load a questionnaire from YAML text (``file`` names it in error messages)."""
    try:
        doc = parse_yaml(text, file)
    except YamlSourceError as exc:
        raise QuestionnaireError(exc.errors) from None
    return _build(doc, file)


def validate_document(doc: YamlDocument) -> tuple[QuestionnaireSpec | None, list[ErrorDetail]]:
    """Validate a parsed document: the pydantic model plus cross-references.

    All errors in file order, led by a hint (severity ``"hint"``) for each slip that explains several of them.
    """
    spec, errors = _validate(doc)
    if errors:
        return None, leading_hints(doc, errors, lambda fixed: _validate(fixed)[1]) + errors
    return spec, errors


def _validate(doc: YamlDocument) -> tuple[QuestionnaireSpec | None, list[ErrorDetail]]:
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else "a single value"
        return None, [doc.error((), f"a questionnaire must be a mapping of keys (id, version, items, ...), "
                                    f"but the document is {kind}")]
    errors: list[ErrorDetail] = []
    spec = None
    try:
        spec = QuestionnaireSpec.model_validate(doc.data)
    except ValidationError as exc:
        errors += pydantic_errors(exc, doc, QuestionnaireSpec)
    errors += check_references(doc)
    return (spec if not errors else None), sort_details(errors)


def _build(doc: YamlDocument, source: str) -> Questionnaire:
    spec, errors = validate_document(doc)
    if errors:
        raise QuestionnaireError(errors)
    assert spec is not None  # guaranteed when there are no errors
    return Questionnaire(spec, source)
