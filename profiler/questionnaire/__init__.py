"""The questionnaire language: YAML files that psychologists write, validated and scored."""

from profiler.questionnaire.loader import bundled_questionnaires, load_questionnaire, parse_questionnaire
from profiler.questionnaire.spec import QuestionnaireSpec
from profiler.questionnaire.questionnaire import KeyedItem, Questionnaire
from profiler.questionnaire.scoring import score_responses, validate_responses

__all__ = [
    "KeyedItem",
    "Questionnaire",
    "QuestionnaireSpec",
    "bundled_questionnaires",
    "load_questionnaire",
    "parse_questionnaire",
    "score_responses",
    "validate_responses",
]
