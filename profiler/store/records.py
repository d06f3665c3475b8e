"""The records that cross the store, defined once: versioned pydantic types, canonical JSON, read back typed.

Two places hold JSON written by profiler and read back by it:

- **case records**, the ``case_records`` table: one payload per row, of a ``kind``, about one candidate. An
  assessment is stored as five (``inputs``, ``validity``, ``profile``, ``contributions``,
  ``recommendation``); the review adds ``decision``, ``contest`` and ``contest_assignment``.
- **log payloads** of the audit log that other code reads or that describe a whole act: the case entering
  the review queue (``review.requested``), a job model's stop and resumption (``model.stopped``,
  ``model.resumed``), a fairness audit (``audit.run``), an invitation (``invitation.created``) and a
  candidate's consent or refusal (``consent.given``, ``consent.refused``).

Each has one class here, with ``schema_version``. :meth:`StoredRecord.payload` gives the plain data to store
(through :func:`profiler.canonical.canonical_json`); :func:`read_record` and :func:`read_log_record` turn a
stored payload back into its class, and refuse one they cannot read with :class:`StoredRecordError`, which
says which record and why (a newer ``schema_version`` than this profiler knows asks for an upgrade).

Migration
---------
Stored payloads are hashed into the audit log, so they are never rewritten: a payload written by an older
profiler is upgraded *when it is read*. Version 0 is what profiler wrote before records were versioned (no
``schema_version``; references to other records under ``artefact``; review records marked
``"format": "profiler.review/1"``). A payload of a known kind that no profiler version wrote (recorded with
the generic :meth:`~profiler.oversight.Candidates.add_record` before kinds were checked) is not a record of
that kind: :func:`read_record` returns None for it and readers pass it over, as they always did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError

from profiler.canonical import parse_utc_text, to_plain, utc_text
from profiler.store.errors import StoreError


class StoredRecordError(StoreError):
    """A stored payload that cannot be read as the record it should be: a ``schema_version`` newer than this
    profiler reads, or content that does not fit its type (the message names the record and the field)."""


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a moment needs a timezone (UTC)")
    return moment


# A moment, stored as the log's UTC text (YYYY-MM-DDTHH:MM:SS.ffffffZ) and read back timezone-aware.
Moment = Annotated[
    datetime,
    BeforeValidator(lambda v: parse_utc_text(v) if isinstance(v, str) else v),
    AfterValidator(_aware),
    PlainSerializer(utc_text, return_type=str),
]
Band = Literal["advance", "review", "not_advance"]
Outcome = Literal["advance", "not_advance"]
Verdict = Literal["valid", "questionable", "invalid"]
Number = float | None  # NaN is stored as null
Hash = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]


class _Part(BaseModel):
    """A part of a stored record: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StoredRecord(_Part):
    """Base of every stored record: unknown fields are errors, instances are immutable.

    Subclasses set :attr:`KIND` (the case-record kind or the log event) and :attr:`VERSION` (the current
    ``schema_version``); :attr:`UPGRADES` maps an older version to a function that upgrades its payload to
    the next version.
    """

    KIND: ClassVar[str]
    VERSION: ClassVar[int] = 1
    UPGRADES: ClassVar[dict[int, Callable[[dict[str, Any]], dict[str, Any] | None]]] = {}

    schema_version: int = 1

    def payload(self) -> dict[str, Any]:
        """The plain data to store (moments as UTC text, NaN as null)."""
        return to_plain(self.model_dump(mode="python"), self.KIND, nonfinite="null")


class RecordRef(_Part):
    """A reference to another case record: its id and the hash of its payload."""

    record: int
    payload_hash: Hash


class JobModelRef(_Part):
    """A job model by id and version (and content hash, where recorded)."""

    id: str
    version: str
    hash: Hash | None = None


# An assessment: five records ----------------------------------------------------------------------------
class StoredInputs(StoredRecord):
    """What an assessment took in: the answers per item, their hash, timings, and the skill evidence."""

    KIND: ClassVar[str] = "inputs"
    session: str | None
    content_hash: Hash
    answers: dict[str, Number]
    answers_hash: Hash
    answered: int
    timings: dict[str, Number] | None
    evidence: dict[str, Any]


class StoredValidity(StoredRecord):
    """The response-validity verdict, its reasons, every index value and the calibration it used."""

    KIND: ClassVar[str] = "validity"
    verdict: Verdict
    reasons: list[str]
    flagged: list[str]
    indices: dict[str, Number]
    not_available: dict[str, str] = {}
    calibration: dict[str, Any] = {}
    questionnaire: dict[str, str]


class StoredProfile(StoredRecord):
    """A trait profile (``TraitProfile.to_dict``): scales with raw score, T, percentile, SEM and bands."""

    KIND: ClassVar[str] = "profile"
    respondent: str
    questionnaire: dict[str, str]
    norms: dict[str, Any]
    norm_title: str = ""
    percentile_method: str
    factor_scores: str
    language: str
    scales: list[dict[str, Any]]


class StoredContributions(StoredRecord):
    """The additive explanation: base value, one SHAP contribution per criterion, the score."""

    KIND: ClassVar[str] = "contributions"
    base_value: float
    score: float
    receipt: str
    engine: str
    additivity_error: float
    baseline: str
    contributions: list[dict[str, Any]]
    versions: dict[str, str]


class Versions(_Part):
    """The versions and hashes behind a recommendation (``Recommendation.versions``)."""

    job_model_id: str
    job_model_version: str
    job_model_hash: str
    questionnaire_id: str
    questionnaire_version: str
    content_hash: str
    norm_group: str
    norm_version: str
    norms_sha256: str


class ValidityVerdict(_Part):
    """The validity verdict a recommendation was recorded with (None: not assessed)."""

    verdict: Verdict | None = None
    reasons: list[str] = []


def _upgrade_recommendation(p: dict[str, Any]) -> dict[str, Any] | None:
    """Version 0: ``Recommendation.to_dict()`` plus validity and routing; references under ``artefact``."""
    versions = p.get("versions")
    if p.get("band") not in ("advance", "review", "not_advance") or not isinstance(versions, dict) \
            or "job_model_id" not in versions:
        return None
    return {**p, "schema_version": 1, "based_on": _refs(p.get("based_on") or {})}


def _refs(based_on: Mapping[str, Any]) -> dict[str, Any]:
    return {kind: {"record": ref.get("artefact"), "payload_hash": ref.get("payload_hash")}
            for kind, ref in based_on.items()}


class StoredRecommendation(StoredRecord):
    """A recommendation as recorded: ``Recommendation.to_dict()`` with the validity verdict, whether the
    verdict routed it to review, and the four records it is based on. The band is the recorded one (``review``
    when the responses were invalid); ``score_band`` is the score's own."""

    KIND: ClassVar[str] = "recommendation"
    UPGRADES: ClassVar[dict] = {0: _upgrade_recommendation}
    band: Band
    score_band: Band
    score: Number
    base_value: Number = None
    contributions: list[dict[str, Any]] = []
    counterfactuals: list[dict[str, Any]] = []
    stability: dict[str, Any] = {}
    coverage: dict[str, Any] = {}
    reasons: list[dict[str, Any]] = []
    agreement: list[dict[str, Any]] = []
    thresholds: dict[str, Number] = {}
    baseline: str = ""
    versions: Versions
    as_of: str | None = None
    engine: str | None = None
    additivity_error: Number = None
    reference: dict[str, Any] = {}
    joint_counterfactuals: list[dict[str, Any]] = []
    validity: ValidityVerdict = ValidityVerdict()
    routed_to_review: bool = False
    based_on: dict[str, RecordRef] = {}

    @property
    def job_model(self) -> JobModelRef:
        v = self.versions
        return JobModelRef(id=v.job_model_id, version=v.job_model_version, hash=v.job_model_hash)

    def explanation(self) -> dict[str, Any]:
        """The ``Recommendation.to_dict()`` part (what ``Recommendation.from_dict`` reads)."""
        return {k: v for k, v in self.payload().items()
                if k not in ("schema_version", "validity", "routed_to_review", "based_on")}


# The review -----------------------------------------------------------------------------------------------
REVIEW_FORMAT_V0 = "profiler.review/1"  # how version-0 review records marked themselves


def _upgrade_review(p: dict[str, Any]) -> dict[str, Any] | None:
    if p.get("format") != REVIEW_FORMAT_V0:
        return None
    out = {k: v for k, v in p.items() if k != "format"}
    for key in ("recommendation", "decision"):
        if isinstance(out.get(key), dict) and "artefact" in out[key]:
            out[key] = {("record" if k == "artefact" else k): v for k, v in out[key].items()}
    return {**out, "schema_version": 1}


class RecommendationSeen(_Part):
    """The recommendation a decision was made on, as the reviewer saw it."""

    record: int
    payload_hash: Hash
    band: Band
    score: Number
    recorded_at: Moment


class StoredDecision(StoredRecord):
    """A reviewer's decision on a recommendation (``stage`` ``first``) or on a contest (``contest``)."""

    KIND: ClassVar[str] = "decision"
    UPGRADES: ClassVar[dict] = {0: _upgrade_review}
    recommendation: RecommendationSeen
    job_model: JobModelRef
    validity: Verdict | None
    reviewer: str
    role: str
    decision: Literal["accept", "override", "do_not_use"]
    outcome: Outcome | None
    reason: str | None
    reason_text: str | None
    note: str | None
    stage: Literal["first", "contest"]
    contest: int | None
    decided_at: Moment


class StoredContest(StoredRecord):
    """A candidate's contest of a first decision, for a second reviewer, with a due date."""

    KIND: ClassVar[str] = "contest"
    UPGRADES: ClassVar[dict] = {0: _upgrade_review}
    decision: RecordRef
    recommendation: RecordRef
    job_model: JobModelRef
    first_reviewer: str
    statement: str | None
    received_by: str
    filed_at: Moment
    due: Moment
    assigned_to: str | None


class StoredContestAssignment(StoredRecord):
    """A contest (re)assigned to a second reviewer."""

    KIND: ClassVar[str] = "contest_assignment"
    UPGRADES: ClassVar[dict] = {0: _upgrade_review}
    contest: int
    assigned_to: str
    previous: str | None
    assigned_at: Moment


class StoredConfirmation(StoredRecord):
    """A second person's confirmation of an override, where the organisation asks for one."""

    KIND: ClassVar[str] = "decision_confirmation"
    decision: RecordRef
    recommendation: RecordRef
    decided_by: str
    confirmed_by: str
    role: str
    note: str | None
    confirmed_at: Moment


class StoredConfirmationRefusal(StoredRecord):
    """A second person's refusal to confirm an override, with the reason: the override does not stand."""

    KIND: ClassVar[str] = "decision_confirmation_refusal"
    decision: RecordRef
    recommendation: RecordRef
    decided_by: str
    refused_by: str
    role: str
    reason: str
    refused_at: Moment


# Log payloads -----------------------------------------------------------------------------------------------
def _version_zero(p: dict[str, Any]) -> dict[str, Any]:
    return {**p, "schema_version": 1}


class StoredReviewRequest(StoredRecord):
    """The case entering the review queue (log event ``review.requested``)."""

    KIND: ClassVar[str] = "review.requested"
    UPGRADES: ClassVar[dict] = {0: _version_zero}
    recommendation: int
    recommendation_hash: Hash
    band: Band
    score_band: Band
    score: Number
    validity: Verdict | None
    routed_to_review: bool
    reasons: list[str]
    job_model_id: str
    job_model_version: str
    job_model_hash: str


class StoredModelStop(StoredRecord):
    """An operator's stop of a job model (log event ``model.stopped``; the row of ``model_stops``)."""

    KIND: ClassVar[str] = "model.stopped"
    UPGRADES: ClassVar[dict] = {0: _version_zero}
    stop: int
    job_model_id: str
    job_model_version: str | None
    scope: Literal["all versions", "version"]
    operator: str
    reason: str


class StoredModelResume(StoredRecord):
    """An operator's resumption of a stopped job model (log event ``model.resumed``)."""

    KIND: ClassVar[str] = "model.resumed"
    UPGRADES: ClassVar[dict] = {0: _version_zero}
    stop: int
    job_model_id: str
    job_model_version: str | None
    operator: str
    reason: str
    stopped_by: str
    stopped_at: Moment


class StoredFairnessAudit(StoredRecord):
    """A fairness audit of one job-model version: its figures in brief and the hashes of its files
    (log event ``audit.run``)."""

    KIND: ClassVar[str] = "audit.run"
    UPGRADES: ClassVar[dict] = {0: _version_zero}
    audit: Literal["fairness"]
    job_model_id: str
    job_model_version: str
    job_model_hash: str
    audit_date: str
    candidates: int
    data_kind: Literal["historical", "test"]
    groups_source: str
    minimum_impact_ratios: dict[str, Number]
    html_sha256: Hash
    json_sha256: Hash


class StoredInvitation(StoredRecord):
    """An invitation sent to a candidate (log event ``invitation.created``): what they are invited to and by whom;
    never the link (it is derived from the server's key) nor the vendor's reference (personal)."""

    KIND: ClassVar[str] = "invitation.created"
    invitation: str
    questionnaire_id: str
    content_hash: Hash
    job_model_id: str
    job_model_version: str
    language: str
    time_multiplier: float
    report_to_candidate: bool
    callback: bool
    client: str | None
    expires_at: Moment


class StoredConsent(StoredRecord):
    """A candidate's answer to the consent page (log events ``consent.given`` and ``consent.refused``): which
    notice, in which language, identified by the hash of its content."""

    KIND: ClassVar[str] = "consent"
    invitation: str
    decision: Literal["given", "refused"]
    notice_hash: Hash
    notice_version: str
    language: str


class BatchFile(_Part):
    """A file a batch read or wrote: where, its SHA-256 and size."""

    path: str
    sha256: Hash
    bytes: int


class BatchReference(_Part):
    """The reference point a batch's contributions are measured against: kind, who it is, and the SHA-256 of its
    values (:attr:`profiler.jobmodel.ReferencePoint.sha256`)."""

    kind: Literal["norm_group", "cohort", "declared"]
    name: str
    sha256: Hash


class StoredBatchRun(StoredRecord):
    """A batch scoring run (log event ``batch.scored``): the files it read and wrote with their hashes, what it
    scored them with (questionnaire, norms or calibration, job model), the engine, the counts, start and end.
    The same content as the run manifest written next to the output (:mod:`profiler.batch.manifest`)."""

    KIND: ClassVar[str] = "batch.scored"
    inputs: list[BatchFile]
    outputs: list[BatchFile]
    questionnaire_id: str
    questionnaire_version: str
    questionnaire_hash: str
    norm_group: str | None
    norm_version: str | None
    norms_sha256: Hash | None
    percentiles: Literal["empirical", "normal"] | None
    calibration_sha256: Hash | None
    job_model_id: str | None
    job_model_version: str | None
    job_model_hash: str | None
    reference: BatchReference | None = None  # of the job model's contributions (None: no job model)
    engine: Literal["local", "dask"]
    scheduler: str | None
    on_error: Literal["stop", "skip"]
    rows: int
    scored: int
    skipped: int
    blank: int
    problems: int
    started: Moment
    finished: Moment


CASE_RECORDS: dict[str, type[StoredRecord]] = {cls.KIND: cls for cls in (
    StoredInputs, StoredValidity, StoredProfile, StoredContributions, StoredRecommendation, StoredDecision,
    StoredContest, StoredContestAssignment, StoredConfirmation, StoredConfirmationRefusal)}
LOG_RECORDS: dict[str, type[StoredRecord]] = {cls.KIND: cls for cls in (
    StoredReviewRequest, StoredModelStop, StoredModelResume, StoredFairnessAudit, StoredInvitation,
    StoredBatchRun)}
LOG_RECORDS["consent.given"] = LOG_RECORDS["consent.refused"] = StoredConsent
# Version 0 of the assessment records is version 1 with schema_version added.
for _cls in (StoredInputs, StoredValidity, StoredProfile, StoredContributions):
    _cls.UPGRADES = {0: _version_zero}


def _read(cls: type[StoredRecord], payload: Mapping[str, Any], where: str) -> StoredRecord | None:
    if not isinstance(payload, Mapping):
        raise StoredRecordError(f"{where}: a {cls.KIND} record is a JSON object, got {type(payload).__name__}")
    data = dict(payload)
    version = data.get("schema_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise StoredRecordError(f"{where}: schema_version {version!r} is not a version number")
    if version > cls.VERSION:
        raise StoredRecordError(f"{where}: a {cls.KIND} record of schema_version {version}, but this profiler "
                                f"reads versions up to {cls.VERSION}: upgrade profiler to read it")
    while version < cls.VERSION:
        upgrade = cls.UPGRADES.get(version)
        if upgrade is None:
            raise StoredRecordError(f"{where}: a {cls.KIND} record of schema_version {version}, which no version of "
                                    "profiler wrote")
        data = upgrade(data)
        if data is None:
            return None  # an old payload of this kind that profiler did not write: not a record of it
        version = data["schema_version"]
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(record)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise StoredRecordError(f"{where}: the {cls.KIND} record's field {field}: {first['msg']}{more}") from None


def record_type(kind: str) -> type[StoredRecord] | None:
    """The class of a case-record kind (None for a kind profiler does not define)."""
    return CASE_RECORDS.get(kind)


def read_record(kind: str, payload: Mapping[str, Any], *, where: str = "case record") -> StoredRecord | None:
    """A stored case record of ``kind`` as its class, upgraded from older versions.

    Returns None for an old payload of this kind that no profiler version wrote (see the module docstring).

    Raises
    ------
    StoredRecordError
        An unknown kind, a ``schema_version`` newer than this profiler reads, or content that does not fit.
    """
    cls = CASE_RECORDS.get(kind)
    if cls is None:
        raise StoredRecordError(f"{where}: profiler defines no case record of kind {kind!r}")
    return _read(cls, payload, where)


def read_log_record(event: str, payload: Mapping[str, Any], *, where: str = "log entry") -> StoredRecord:
    """A typed log payload (``review.requested``, ``model.stopped``, ``model.resumed``, ``audit.run``).

    Raises
    ------
    StoredRecordError
        As :func:`read_record`; also for an event without a record type.
    """
    cls = LOG_RECORDS.get(str(event))
    if cls is None:
        raise StoredRecordError(f"{where}: profiler defines no record for log event {event!r}")
    found = _read(cls, payload, where)
    if found is None:
        raise StoredRecordError(f"{where}: not a {event} record")
    return found


def check_record(kind: str, payload: Mapping[str, Any] | StoredRecord) -> dict[str, Any]:
    """The payload to store for a case record of ``kind``: typed kinds are validated (a
    :class:`StoredRecord` of that kind, or a mapping that reads as one); other kinds pass through as given."""
    cls = CASE_RECORDS.get(kind)
    if isinstance(payload, StoredRecord):
        if cls is not type(payload):
            raise StoredRecordError(f"a {type(payload).__name__} is not a record of kind {kind!r}")
        return payload.payload()
    if cls is None:
        return dict(payload)
    if payload.get("schema_version") is None:
        raise StoredRecordError(f"a {kind} record is written as a {cls.__name__} (profiler.store.records): "
                                f"kind {kind!r} is reserved for it")
    found = _read(cls, payload, f"the {kind} record")
    return found.payload()  # type: ignore[union-attr]


__all__ = [
    "CASE_RECORDS",
    "LOG_RECORDS",
    "BatchFile",
    "JobModelRef",
    "RecordRef",
    "StoredBatchRun",
    "StoredConsent",
    "StoredConfirmationRefusal",
    "StoredContest",
    "StoredContestAssignment",
    "StoredContributions",
    "StoredDecision",
    "StoredFairnessAudit",
    "StoredInputs",
    "StoredInvitation",
    "StoredModelResume",
    "StoredModelStop",
    "StoredProfile",
    "StoredRecommendation",
    "StoredRecord",
    "StoredRecordError",
    "StoredReviewRequest",
    "StoredValidity",
    "Versions",
    "check_record",
    "read_log_record",
    "read_record",
    "record_type",
]
