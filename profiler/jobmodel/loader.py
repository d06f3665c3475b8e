"""Loading job models: from a path or a bundled id, with every problem reported at once."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from profiler.documents import pydantic_errors, sort_details
from profiler.errors import DocumentError, ErrorDetail, JobModelError
from profiler.jobmodel.jobmodel import JobModel
from profiler.jobmodel.spec import JobModelSpec
from profiler.jobmodel.references import check_references
from profiler.questionnaire.loader import load_questionnaire
from profiler.questionnaire.questionnaire import Questionnaire
from profiler.resources import by_id, model_files, resolve
from profiler.yamlsource import YamlDocument, YamlSourceError, parse_yaml, read_yaml_file


def bundled_job_models() -> dict[str, Path]:
    """Ids and paths of the job models shipped with profiler and in the ``PROFILER_PATH`` folders
    (``models/jobs/*.yaml``)."""
    return by_id(model_files("jobs/*.yaml"), lambda path: path.stem, "job model")


def load_job_model(path_or_id: str | Path, *, questionnaire: Questionnaire | None = None) -> JobModel:
    """Load and validate a job model from a YAML file or a bundled id such as ``"customer-support"``.

    Parameters
    ----------
    path_or_id : str or Path
    questionnaire : Questionnaire, optional
        The questionnaire whose scales the model's trait inputs name; by default the bundled
        questionnaire with the id the model gives.

    Raises
    ------
    JobModelError
        With every problem found, each located by file, line and column: unknown keys, protected
        attributes as inputs, undeclared evidence, a model in which personality scales alone decide, ...
    """
    try:
        path, source = resolve(path_or_id, bundled_job_models(), "job model")
    except LookupError as exc:
        raise JobModelError([ErrorDetail(str(path_or_id), 0, 0, "", str(exc))]) from None
    try:
        doc = read_yaml_file(path)
    except YamlSourceError as exc:
        raise JobModelError(exc.errors) from None
    return build_job_model(doc, source, questionnaire)


def parse_job_model(text: str, file: str = "<string>", *, questionnaire: Questionnaire | None = None) -> JobModel:
    """Load a job model from YAML text (``file`` names it in error messages)."""
    try:
        doc = parse_yaml(text, file)
    except YamlSourceError as exc:
        raise JobModelError(exc.errors) from None
    return build_job_model(doc, file, questionnaire)


def validate_job_model_document(
    doc: YamlDocument, questionnaire: Questionnaire | None = None
) -> tuple[JobModelSpec | None, Questionnaire | None, list[ErrorDetail]]:
    """Validate a parsed document; returns the spec (None on errors), its questionnaire and all errors."""
    if not isinstance(doc.data, dict):
        return None, None, [doc.error((), "a job model must be a mapping of keys (id, version, role, criteria, ...)")]
    errors: list[ErrorDetail] = []
    spec = None
    try:
        spec = JobModelSpec.model_validate(doc.data)
    except ValidationError as exc:
        errors += pydantic_errors(exc, doc, JobModelSpec)
    qid = doc.data.get("questionnaire")
    if questionnaire is None and isinstance(qid, str):
        try:
            questionnaire = load_questionnaire(qid)
        except DocumentError as exc:
            errors.append(doc.error(("questionnaire",), f"questionnaire {qid!r} cannot be loaded: "
                                    f"{exc.errors[0].message}"))
    elif questionnaire is not None and isinstance(qid, str) and qid != questionnaire.id:
        errors.append(doc.error(("questionnaire",), f"the model is written for questionnaire {qid!r}, "
                                f"not {questionnaire.id!r}"))
    errors += check_references(doc, questionnaire)
    return (spec if not errors else None), questionnaire, sort_details(errors)


def build_job_model(doc: YamlDocument, source: str, questionnaire: Questionnaire | None = None) -> JobModel:
    spec, questionnaire, errors = validate_job_model_document(doc, questionnaire)
    if errors:
        raise JobModelError(errors)
    assert spec is not None and questionnaire is not None  # guaranteed when there are no errors
    return JobModel(spec, questionnaire, source)
