"""The public API is exactly what ``profiler.__all__`` lists, and every listed name exists."""

import profiler

EXPECTED = {
    "DocumentError", "ErrorDetail", "ProfilerError", "Questionnaire", "QuestionnaireError", "ResponseError",
    "ResponseProblem", "__version__", "bundled_questionnaires", "load_questionnaire", "parse_questionnaire",
}


def test_exported_names_are_intended():
    assert EXPECTED <= set(profiler.__all__)
    for name in profiler.__all__:
        assert hasattr(profiler, name), name


def test_error_hierarchy():
    assert issubclass(profiler.QuestionnaireError, profiler.DocumentError)
    assert issubclass(profiler.DocumentError, profiler.ProfilerError)
    assert issubclass(profiler.QuestionnaireError, ValueError)
    assert issubclass(profiler.ResponseError, ValueError)
