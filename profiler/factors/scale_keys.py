"""A questionnaire's declared structure as factor-model keys: the bridge from scales to CFA syntax.

Both :meth:`profiler.factors.CFA.from_questionnaire` and the calibration use it, so it sits below both.
"""

from __future__ import annotations

from typing import Any


def cfa_keys(questionnaire: Any, domains: list[str]) -> dict[str, list[str]]:
    """Items per factor for the CFA, a positively keyed item first.

    lavaan fixes the first loading to 1, so a reverse-keyed first item (A1 in the IPIP-50) would make the
    factor point the opposite way of its scale; starting with a positively keyed item keeps both aligned.

    Parameters
    ----------
    questionnaire : Questionnaire
        Anything with ``keys(scale_id)`` returning keyed items (``.sign``, ``str()`` as ``"-A1"``).
    domains : list of str
        The scales that become factors.
    """
    out = {}
    for domain in domains:
        keyed = questionnaire.keys(domain)
        keyed = sorted(keyed, key=lambda k: k.sign < 0)  # stable: positives first, in key order
        out[domain] = [str(k) for k in keyed]
    return out


__all__ = ["cfa_keys"]
