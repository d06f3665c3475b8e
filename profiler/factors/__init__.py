"""Factor models and reliability that agree with R's psych and lavaan.

Exploratory factor analysis (:class:`EFA`), confirmatory factor analysis (:class:`CFA`), the tools that
say how many factors to keep, and reliability coefficients.
"""

__all__: list[str] = []
