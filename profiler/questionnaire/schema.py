"""The JSON Schema (draft-07) of the questionnaire format, for editors and the YAML language server."""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from profiler.questionnaire.spec import QuestionnaireSpec

DRAFT_07 = "http://json-schema.org/draft-07/schema#"


class _Draft07(GenerateJsonSchema):
    """pydantic writes draft 2020-12; the YAML language server reads draft-07 ('definitions', not '$defs')."""

    def generate(self, schema, mode="validation"):  # type: ignore[override]
        result = super().generate(schema, mode=mode)
        result = _rename_refs(result)
        if "$defs" in result:
            result["definitions"] = result.pop("$defs")
        return {"$schema": DRAFT_07, **result}


def _rename_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                value = value.replace("#/$defs/", "#/definitions/")
            if key == "discriminator":  # an OpenAPI keyword that draft-07 validators do not know
                continue
            out[key] = _rename_refs(value)
        return out
    if isinstance(node, list):
        return [_rename_refs(v) for v in node]
    return node


def questionnaire_schema() -> dict[str, Any]:
    """The JSON Schema of a questionnaire file, draft-07."""
    return QuestionnaireSpec.model_json_schema(schema_generator=_Draft07, mode="validation")


def questionnaire_schema_text() -> str:
    """The schema as pretty JSON text, exactly as committed in ``questionnaires/schema.json``."""
    return json.dumps(questionnaire_schema(), indent=2, ensure_ascii=False) + "\n"
