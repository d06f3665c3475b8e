"""Protected attributes and their common proxies, which can never be inputs of a job model.

A job model that names one of them — as a criterion, an input or an evidence item — fails to load.
Matching is by whole words of the identifiers and names (``age`` matches ``age_years`` but not
``language_cert``), so legitimate inputs are not caught by accident, plus a short list of stems that are
unambiguous even inside run-together words (``dateofbirth``, ``gendercode``, ``Geschlecht``).
"""

from __future__ import annotations

import re

# word -> what it is, for the error message. Sources: EU Charter Art. 21, Title VII, ADEA, ADA, GDPR Art. 9,
# plus the proxies that the guidance on automated hiring names (photo, name, address/postcode).
PROTECTED_WORDS: dict[str, str] = {
    **dict.fromkeys(["sex", "sexe", "gender", "male", "female"], "sex or gender"),
    **dict.fromkeys(["age", "birth", "birthdate", "birthday", "dob", "yob"], "age or date of birth"),
    **dict.fromkeys(["race", "racial", "ethnicity", "ethnic", "skin"], "race or ethnicity"),
    **dict.fromkeys(["nationality", "citizenship", "passport", "immigration"], "nationality or national origin"),
    **dict.fromkeys(["tongue", "accent"], "mother tongue or accent (a proxy for national origin)"),
    **dict.fromkeys(["religion", "religious", "faith", "caste"], "religion or belief"),
    **dict.fromkeys(["disability", "disabled", "handicap", "impairment"], "disability"),
    **dict.fromkeys(["marital", "married", "spouse", "divorced", "pregnancy", "pregnant", "maternity", "paternity"],
                    "marital or pregnancy status"),
    **dict.fromkeys(["sexual", "sexuality", "lgbt", "lgbtq"], "sexual orientation"),
    **dict.fromkeys(["photo", "photograph", "picture", "facial", "selfie", "biometric", "emotion"],
                    "photo, face or emotion (biometric data)"),
    **dict.fromkeys(["name", "firstname", "surname", "lastname", "forename"], "name (a proxy for sex and origin)"),
    **dict.fromkeys(["address", "postcode", "zip", "zipcode", "postal"], "address or postcode (a proxy for origin)"),
}

_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def words_of(text: str) -> list[str]:
    """Lower-case words of an identifier or phrase: ``birthDate_2`` -> ``["birth", "date", "2"]``."""
    return [w.lower() for w in _WORD.findall(text)]


# Stems that are unambiguous inside run-together identifiers (``dateofbirth``, ``gendercode``), in English and
# in the languages of the bundled translations; matched anywhere in the letters of the text.
PROTECTED_STEMS: dict[str, str] = {
    "gender": "sex or gender", "geschlecht": "sex or gender", "birth": "age or date of birth",
    "geburt": "age or date of birth", "naissance": "age or date of birth", "ethnic": "race or ethnicity",
    "nationalit": "nationality or national origin", "staatsangeh": "nationality or national origin",
    "religio": "religion or belief", "disabilit": "disability", "handicap": "disability",
    "pregnan": "marital or pregnancy status", "schwanger": "marital or pregnancy status",
    "grossesse": "marital or pregnancy status", "marital": "marital or pregnancy status",
    "postcode": "address or postcode (a proxy for origin)", "zipcode": "address or postcode (a proxy for origin)",
    "postleitzahl": "address or postcode (a proxy for origin)", "surname": "name (a proxy for sex and origin)",
    "firstname": "name (a proxy for sex and origin)", "lastname": "name (a proxy for sex and origin)",
}


def protected_match(text: str) -> str | None:
    """What protected attribute ``text`` names, or None."""
    for word in words_of(text):
        if word in PROTECTED_WORDS:
            return PROTECTED_WORDS[word]
    letters = "".join(ch for ch in text.lower() if ch.isalpha())
    for stem, what in PROTECTED_STEMS.items():
        if stem in letters:
            return what
    return None
