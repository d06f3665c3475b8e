"""Does a translation measure what the source does? Per-language item statistics and a polarity check.

The most dangerous translation error reverses an item's meaning ("I seldom feel blue" rendered as "I often
feel blue"): its answers then run against the rest of its scale, the scale's reliability drops, and the
translated group's scores on it are inverted, while a group audit of the scores only shows a moderate
difference. Per language (a column of the data), for each scale of two or more items:

- Cronbach's alpha and each item's corrected item-total (item-rest) correlation, as ``psych::alpha``;
- the **polarity check**: each item's correlation with the rest of its scale (of its domain, for a facet's
  item: see below) in the language is compared with the source
  language's by Fisher's z for independent correlations, ``z = (atanh r_source - atanh r) /
  sqrt(1 / (n_source - 3) + 1 / (n - 3))``, one-sided (the translation weaker), Benjamini-Hochberg adjusted
  over every item and language. An item whose correlation is significantly lower **and** significantly below
  zero (one-sided, ``atanh(r) sqrt(n - 3)``; the source's positive) is ``reversed``; significantly lower and
  below :data:`COLLAPSED` (.10) is
  ``collapsed``; significantly lower by at least :data:`WEAKER` (.20) is ``weaker`` (looked at, not sent
  back). Reversed and collapsed items are the ones to send back to the translator, in plain words.
  A facet's item is judged against the rest of its domain (every other item of the top-level scale, keyed):
  a translator who drops every negation turns half of a balanced four-item facet around, and within the
  facet the two halves then run against each other with nothing to say which half is wrong, while the
  other facets of the domain still say it;
- optionally, measurement invariance across the languages (configural, metric, scalar; see
  :func:`profiler.fairness.invariance`), whose freed intercepts name items answered at another level at the
  same trait level.

Items are compared on what the respondents did, never on the text: a check of the wording itself is the
translator's and a reviewer's work (back-translation, cognitive interviews).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from profiler.factors import cronbach_alpha, item_statistics
from profiler.fairness._input import FairnessInputError
from profiler.fairness.dif import benjamini_hochberg
from profiler.fairness.impact import _records
from profiler.fairness.invariance import invariance
from profiler.questionnaire.questionnaire import Questionnaire

__all__ = ["COLLAPSED", "MIN_PER_LANGUAGE", "WEAKER", "TranslationCheck", "translation_check"]

COLLAPSED = 0.10
WEAKER = 0.20
MIN_PER_LANGUAGE = 30  # fewer respondents give item-rest correlations too unstable to compare


@dataclass(frozen=True)
class TranslationCheck:
    """The result of :func:`translation_check`.

    Attributes
    ----------
    source : str
        The language the others are compared with.
    sizes : dict
        Language -> respondents.
    items : DataFrame
        One row per item, scale and language (the source included): ``language, scale, item, keyed, n,
        r_drop`` (item-rest in its scale), ``against`` (the scale the item is judged against: its domain for a
        facet's item, else its scale), ``r`` (the item against the rest of ``against``) and for other languages
        ``r_source, n_source`` (the source's ``r`` and n), ``z, p, p_adj, verdict`` (``ok``, ``weaker``,
        ``collapsed``, ``reversed``).
    alphas : DataFrame
        Language x scale: Cronbach's alpha.
    invariance : dict or None
        ``verdict`` in words, and the :class:`~profiler.fairness.InvarianceResult` as a dict, or the reason it
        could not be run.
    send_back : list of dict
        ``language, item, scale, text, verdict, r, r_source, reason`` of every reversed or collapsed item.
    skipped : dict
        Language -> why it was not compared (too few respondents).
    """

    source: str
    sizes: dict[str, int]
    items: pd.DataFrame
    alphas: pd.DataFrame
    invariance: dict[str, Any] | None
    send_back: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """The result in plain words: which items to send back to the translator, and why."""
        if not self.send_back:
            compared = [lang for lang in self.sizes if lang != self.source and lang not in self.skipped]
            return (f"No item's relation to its scale reverses or collapses in {', '.join(compared) or 'any language'} "
                    f"compared with {self.source}." if compared else "No language could be compared with the source.")
        lines = [f"Send {len(self.send_back)} item(s) back to the translator:"]
        lines += [f"- {s['language']} {s['item']} ({s['scale']})" + (f" \"{s['text']}\"" if s["text"] else "")
                  + f": {s['reason']}" for s in self.send_back]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "sizes": dict(self.sizes), "items": _records(self.items),
                "alphas": {str(k): {str(s): float(v) for s, v in row.items()} for k, row in self.alphas.iterrows()},
                "invariance": self.invariance, "send_back": list(self.send_back), "skipped": dict(self.skipped),
                "summary": self.summary()}


def _item_rest(questionnaire: Questionnaire, data: pd.DataFrame, scale: str) -> tuple[pd.DataFrame, float]:
    keys = questionnaire.keys(scale)
    frame = data[[k.item for k in keys]]
    key_list, item_range = [str(k) for k in keys], questionnaire.item_range(keys[0].item)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a constant item in a small group: NaN, reported as such
        stats_ = item_statistics(frame, key_list, item_range=item_range)
        alpha = cronbach_alpha(frame, key_list, item_range=item_range).raw_alpha
    return stats_, float(alpha)


def _top(questionnaire: Questionnaire, scale: str) -> str:
    while scale in questionnaire.parent_of:
        scale = questionnaire.parent_of[scale]
    return scale


def _reason(verdict: str, r: float, r_source: float, language: str, source: str, against: str) -> str:
    rest = f"the rest of its domain {against}" if against else "the rest of its scale"
    if verdict == "reversed":
        return (f"its answers run against {rest} in {language} (item-rest r = {r:+.2f}; in {source} "
                f"{r_source:+.2f}): the translation probably says the opposite of the source")
    return (f"its answers hardly relate to {rest} in {language} (item-rest r = {r:+.2f}; in {source} "
            f"{r_source:+.2f}): the translation may not carry the item's meaning")


def translation_check(responses: pd.DataFrame, questionnaire: Questionnaire, languages: Any, *,
                      source: str | None = None, alpha: float = 0.05, check_invariance: bool = True,
                      min_per_language: int = MIN_PER_LANGUAGE) -> TranslationCheck:
    """Compare every language version of a questionnaire with the source, item by item.

    Parameters
    ----------
    responses : DataFrame
        One row per respondent, item ids as columns (NaN unanswered; rows missing an item of a scale are left
        out of that scale).
    questionnaire : Questionnaire
    languages : Series or array-like
        The language each respondent answered in (same length and, for a Series, same index).
    source : str, optional
        The language the others are compared with (default: the questionnaire's default language).
    alpha : float, default 0.05
        Significance after Benjamini-Hochberg adjustment.
    check_invariance : bool, default True
        Also test configural, metric and scalar invariance across the languages (one factor per scale of two or
        more items); a model that cannot be fitted is reported, not raised.
    min_per_language : int
        Languages with fewer respondents are listed as not compared.

    Raises
    ------
    FairnessInputError
        No respondent in the source language, or languages that do not line up with the responses.
    """
    if len(languages) != len(responses):
        raise FairnessInputError(f"languages has {len(languages)} entries but responses has {len(responses)} rows")
    if isinstance(languages, pd.Series) and not languages.index.equals(responses.index):
        raise FairnessInputError("responses and languages have different indexes: align them first")
    labels = pd.Series(np.asarray(languages, dtype=object), index=responses.index).astype(str)
    source = source or questionnaire.default_language
    sizes = {str(k): int(v) for k, v in labels.value_counts().sort_index().items()}
    if source not in sizes:
        raise FairnessInputError(f"no respondent answered in the source language {source!r} (languages: "
                         f"{', '.join(sizes)}); give source=")
    skipped = {lang: f"{n} respondents, fewer than {min_per_language}" for lang, n in sizes.items()
               if n < min_per_language and lang != source}
    compared = [lang for lang in sizes if lang not in skipped]
    scales = [s for s in questionnaire.scale_ids
              if questionnaire.scale(s).keys is not None and len(questionnaire.keys(s)) >= 3]
    rows, alphas = [], {}
    for lang in compared:
        part = responses[labels == lang]
        alphas[lang] = {}
        domains = {d: _item_rest(questionnaire, part, d)[0] for d in {_top(questionnaire, s) for s in scales}
                   if d not in scales}
        for scale in scales:
            table, a = _item_rest(questionnaire, part, scale)
            alphas[lang][scale] = a
            against = _top(questionnaire, scale)
            for item, r in table.iterrows():
                n, r_against = ((int(r["n"]), float(r["r_drop"])) if against == scale else
                                (int(domains[against].at[item, "n"]), float(domains[against].at[item, "r_drop"])))
                rows.append({"language": lang, "scale": scale, "item": str(item), "keyed": "-" if r["reversed"] else "+",
                             "n": n, "r_drop": float(r["r_drop"]), "against": against, "r": r_against})
    items = pd.DataFrame(rows)
    base = items[items.language == source].set_index(["scale", "item"])
    items["r_source"] = [base.loc[(s, i), "r"] for s, i in zip(items.scale, items.item)]
    items["n_source"] = [int(base.loc[(s, i), "n"]) for s, i in zip(items.scale, items.item)]
    other = items.language != source
    r, r0 = items["r"].clip(-0.999999, 0.999999), items["r_source"].clip(-0.999999, 0.999999)
    se = np.sqrt(1 / (items["n"] - 3) + 1 / (items["n_source"] - 3))
    items["z"] = np.where(other, (np.arctanh(r0) - np.arctanh(r)) / se, np.nan)
    items["p"] = np.where(other, stats.norm.sf(items["z"]), np.nan)
    items["p_adj"] = benjamini_hochberg(items["p"])
    lower = items["p_adj"] < alpha
    # reversed: not only weaker than the source but itself below zero (one-sided test of r < 0 in the language)
    negative = stats.norm.cdf(np.arctanh(r) * np.sqrt(items["n"] - 3)) < alpha
    items["verdict"] = np.select(
        [~other, lower & negative & (items.r_source > 0), lower & (items.r < COLLAPSED),
         lower & (items.r_source - items.r >= WEAKER)],
        ["", "reversed", "collapsed", "weaker"], default="ok")
    send_back = []
    for row in items[items.verdict.isin(["reversed", "collapsed"])].itertuples():
        try:
            text = questionnaire.text(row.item, row.language)
        except KeyError:
            text = ""
        send_back.append({"language": row.language, "item": row.item, "scale": row.scale, "text": text,
                          "verdict": row.verdict, "r": float(row.r), "r_source": float(row.r_source),
                          "reason": _reason(row.verdict, row.r, row.r_source, row.language, source,
                                            "" if row.against == row.scale else row.against)})
    result_invariance = _invariance(responses, questionnaire, labels, compared, scales) if (
        check_invariance and len(compared) > 1) else None
    return TranslationCheck(source, sizes, items, pd.DataFrame(alphas).T.reindex(columns=scales), result_invariance,
                            send_back, skipped)


def _invariance(responses: pd.DataFrame, questionnaire: Questionnaire, labels: pd.Series, compared: list[str],
                scales: list[str]) -> dict[str, Any]:
    """Configural, metric and scalar invariance of each scale on its own (a one-factor model per scale).

    One model per scale rather than one of every scale: a 30-facet inventory in four languages would be a
    multi-group CFA of 30 correlated factors, which takes hours; a translation is judged scale by scale anyway.
    """
    keep = labels.isin(compared)
    per_scale, verdicts = {}, {}
    loadings, intercepts, notes = [], [], []
    for scale in scales:
        items = [k.item for k in questionnaire.keys(scale)]
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = invariance(responses.loc[keep, items], {scale: items}, labels[keep],
                                    steps=("configural", "metric", "scalar"))
        except (ValueError, np.linalg.LinAlgError) as exc:
            per_scale[scale], verdicts[scale] = None, {"configural": f"could not be tested: {exc}"}
            continue
        # The fits' warnings (inadmissible solutions along the search) stay in the figures; the notes say what matters.
        per_scale[scale] = {**result.to_dict(), "warnings": sorted({str(w.message) for w in caught})}
        verdicts[scale] = result.steps.set_index("step")["verdict"].to_dict()
        loadings += result.freed[result.freed.kind == "loading"].item.tolist()
        intercepts += result.freed[result.freed.kind == "intercept"].item.tolist()
        notes += [f"{scale}: {n}" for n in dict.fromkeys(result.notes)]
    parts = []
    for step in ("metric", "scalar"):
        by_verdict: dict[str, list[str]] = {}
        for scale, steps in verdicts.items():
            by_verdict.setdefault(steps.get(step, "not tested"), []).append(scale)
        parts.append(f"{step} " + ", ".join(
            f"{v} in {len(names)} of {len(verdicts)} scale(s)" + ("" if v == "holds" or len(names) > 8 else
                                                                  f" ({', '.join(names)})")
            for v, names in sorted(by_verdict.items(), key=lambda kv: kv[0] != "holds")))
    verdict = "; ".join(parts)
    if loadings:
        verdict += (f"; item(s) relating differently to their factor in some language (loadings freed): "
                    f"{', '.join(loadings)}")
    if intercepts:
        verdict += (f"; item(s) answered at another level in some language at the same trait level (intercepts "
                    f"freed): {', '.join(intercepts)}")
    return {"verdict": verdict + ("" if not notes else " (" + "; ".join(notes) + ")"), "scales": verdicts,
            "result": per_scale}
