"""Protected attributes and their common proxies, which can never be inputs of a job model, recognised by meaning.

A job model whose criteria, inputs or evidence name one of them is refused, in whatever way it is built (a YAML
file, or ``JobModelSpec(...)`` in code: the check is part of the spec's validation). Terms are known in
English, Dutch, German, French and Spanish, with the usual proxies (postcode, graduation year, native
language, photo, name, marital status). Matching is by words, not substrings, in three strengths:

- **terms** that mean the attribute wherever they appear as a word or a phrase (``gender``, ``Geschlecht``,
  ``date of birth``, ``langue maternelle``, ``estado civil``); identifiers are split into words
  (``birthDate_2`` -> ``birth date 2``) and accents removed (``âge`` -> ``age``);
- **compounds**: the same terms run together in an identifier or a German or Dutch compound
  (``dateofbirth``, ``nativespeaker``, ``Geburtsdatum``, ``moedertaal``) are found inside a word;
- **ambiguous words** (``photo``, ``name``, ``race``, ``address``, ``immigration``, ``accent``) count only
  when the text is about them alone: ``candidate_photo``, ``immigration status`` and ``full name`` are
  refused; ``Photo editing work sample``, ``Immigration law exam`` and ``Race condition debugging`` are not.

A psychologist who has reviewed a case where such a term is legitimate (an interpreter role whose criterion
is a native-level language test, say) declares it under ``protected_exceptions`` with a written
justification and who reviewed it; the declaration is part of the model's content and of its hash.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SEX = "sex or gender"
AGE = "age or date of birth"
ETHNICITY = "race, ethnicity or skin colour"
ORIGIN = "nationality or national origin"
LANGUAGE = "native language or accent (a proxy for national origin)"
RELIGION = "religion or belief"
DISABILITY = "disability or health"
FAMILY = "marital, family or pregnancy status"
ORIENTATION = "sexual orientation"
BIOMETRIC = "photo, face, voice or emotion (biometric data)"
NAME = "name (a proxy for sex and origin)"
ADDRESS = "address or postcode (a proxy for origin)"
GRADUATION = "graduation or school-leaving year (a proxy for age)"

# Terms that name the attribute wherever they appear (single words or phrases; accents are removed first).
TERMS: dict[str, tuple[str, ...]] = {
    SEX: ("sex", "gender", "male", "female", "geslacht", "geschlecht", "sexe", "sexo", "genero", "mannlich",
          "weiblich", "masculin", "feminin", "masculino", "femenino"),
    AGE: ("age", "aged", "dob", "yob", "birthdate", "birthday", "date of birth", "year of birth", "birth year",
          "birth date", "leeftijd", "geboortedatum", "geboortejaar", "alter", "geburtsdatum", "geburtsjahr",
          "lebensalter", "date de naissance", "annee de naissance", "naissance", "edad", "fecha de nacimiento",
          "ano de nacimiento", "nacimiento"),
    ETHNICITY: ("ethnicity", "ethnic", "racial", "skin colour", "skin color", "etniciteit", "etnische",
                "huidskleur", "ethnie", "ethnisch", "hautfarbe", "ethnique", "couleur de peau", "etnia", "etnico",
                "raza", "color de piel"),
    ORIGIN: ("nationality", "citizenship", "national origin", "country of origin", "place of birth", "birthplace",
             "nationaliteit", "afkomst", "herkomst", "geboorteplaats", "geboorteland", "staatsangehorigkeit",
             "nationalitat", "nationalitaet", "staatsangehoerigkeit", "herkunft", "abstammung", "geburtsort", "geburtsland", "nationalite", "lieu de naissance",
             "pays de naissance", "nacionalidad", "lugar de nacimiento", "pais de origen", "pays d origine"),
    LANGUAGE: ("native language", "native speaker", "native tongue", "mother tongue", "moedertaal",
               "muttersprache", "langue maternelle", "lengua materna", "idioma materno"),
    RELIGION: ("religion", "religious", "caste", "religie", "religieus", "konfession", "religionszugehorigkeit",
               "religieux", "religion", "religioso", "religiosa"),
    DISABILITY: ("disability", "disabled", "handicap", "impairment", "chronic illness", "beperking", "handicapt",
                 "behinderung", "behindert", "schwerbehinderung", "handicape", "discapacidad", "minusvalia"),
    FAMILY: ("marital", "married", "spouse", "divorced", "widowed", "pregnancy", "pregnant", "maternity", "paternity",
             "family status", "number of children", "burgerlijke staat", "gehuwd", "getrouwd", "zwanger",
             "zwangerschap", "familienstand", "verheiratet", "schwanger", "schwangerschaft", "elternzeit",
             "situation familiale", "etat civil", "enceinte", "grossesse", "estado civil", "embarazo",
             "embarazada", "casado", "casada"),
    ORIENTATION: ("sexual orientation", "sexuality", "lgbt", "lgbtq", "lgbtqia", "seksuele geaardheid",
                  "sexuelle orientierung", "orientation sexuelle", "orientacion sexual"),
    BIOMETRIC: ("headshot", "selfie", "facial", "biometric", "voiceprint", "voice analysis", "lichtbild", "passfoto",
                "pasfoto"),
    NAME: ("first name", "last name", "family name", "given name", "full name", "firstname", "lastname", "surname",
           "forename", "voornaam", "achternaam", "vorname", "nachname", "familienname", "prenom", "nom de famille",
           "apellido", "apellidos"),
    ADDRESS: ("postcode", "post code", "zip", "zipcode", "zip code", "postal code", "plz", "postleitzahl",
              "code postal", "codigo postal", "home address", "place of residence", "woonplaats", "wohnort",
              "domicilio"),
    GRADUATION: ("graduation year", "year of graduation", "graduation date", "school leaving year",
                 "afstudeerjaar", "jaar van afstuderen", "abschlussjahr", "annee du diplome", "annee d obtention",
                 "ano de graduacion"),
}

# Run together in an identifier or a compound these terms are found inside a word: long enough to be
# unambiguous there (``dateofbirth``, ``Geburtsdatum`` inside ``geburtsdatumkandidat``).
COMPOUNDS: dict[str, tuple[str, ...]] = {
    SEX: ("gender", "geschlecht", "geslacht"),
    AGE: ("dateofbirth", "yearofbirth", "birthdate", "birthyear", "geboortedatum", "geboortejaar", "geburtsdatum",
          "geburtsjahr", "datedenaissance", "fechadenacimiento"),
    ETHNICITY: ("ethnicity", "etniciteit", "hautfarbe", "skincolo"),
    ORIGIN: ("nationality", "citizenship", "countryoforigin", "placeofbirth", "nationaliteit", "geboorteplaats",
             "staatsangehorigkeit", "staatsangehoerigkeit", "geburtsort", "nacionalidad"),
    LANGUAGE: ("nativelanguage", "nativespeaker", "nativetongue", "mothertongue", "moedertaal", "muttersprache",
               "languematernelle", "lenguamaterna"),
    RELIGION: ("religion", "religie", "konfession"),
    DISABILITY: ("disabilit", "behinderung", "discapacidad"),
    FAMILY: ("maritalstatus", "pregnan", "zwangerschap", "schwangerschaft", "familienstand", "burgerlijkestaat",
             "grossesse", "estadocivil", "embaraz"),
    ORIENTATION: ("sexualorientation", "sexuelleorientierung"),
    NAME: ("firstname", "lastname", "surname", "familyname", "givenname", "fullname", "forename", "voornaam",
           "achternaam", "vorname", "nachname", "familienname"),
    ADDRESS: ("postcode", "zipcode", "postalcode", "postleitzahl", "codepostal", "codigopostal"),
    GRADUATION: ("graduationyear", "yearofgraduation", "graduationdate", "afstudeerjaar", "abschlussjahr"),
}

# Words that are the attribute only when the text is about them alone (every other word in FILLER).
AMBIGUOUS: dict[str, tuple[str, ...]] = {
    ETHNICITY: ("race", "colour", "color", "skin", "origin", "origine", "origen"),
    AGE: ("birth", "born", "geboren", "ne", "nacido"),
    ORIGIN: ("immigration", "immigrant", "passport", "country", "migration", "migrant"),
    LANGUAGE: ("accent", "tongue", "native", "dialect"),
    RELIGION: ("faith", "belief", "geloof", "glaube", "croyance", "fe", "creencia"),
    DISABILITY: ("health", "illness", "gezondheid", "gesundheit", "sante", "salud"),
    FAMILY: ("children", "kids", "family", "kinderen", "kinder", "enfants", "hijos", "familie", "famille", "familia"),
    BIOMETRIC: ("photo", "photograph", "picture", "image", "face", "emotion", "emotions", "foto", "bild", "gezicht",
                "gesicht", "visage", "cara"),
    NAME: ("name", "names", "naam", "nom", "nombre"),
    ADDRESS: ("address", "residence", "adres", "adresse", "anschrift", "direccion"),
}

# Words that add nothing to what a text is about: an ambiguous word among only these is that attribute.
FILLER = frozenset(
    "a an the of his her their its your my own candidate candidates applicant applicants person personal people "
    "self data info information status code number nr no date year type group level category value field "
    "photo picture name of de het van der die das des du la le les el los las del von zu kandidaat kandidat "
    "bewerber sollicitant candidat candidato solicitante postulante persoonlijk personlich personnel personal "
    "id identity identification details record profile registered current original score scores rating analysis "
    "match similarity".split()
)

_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def plain(text: str) -> str:
    """Lower case without accents: ``Staatsangehörigkeit`` -> ``staatsangehorigkeit``, ``âge`` -> ``age``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ß", "ss")


def words_of(text: str) -> list[str]:
    """Lower-case words of an identifier or phrase: ``birthDate_2`` -> ``["birth", "date", "2"]``."""
    return [w.lower() for w in _WORD.findall(plain(text))]


# "native" before a language's name is the candidate's first language (a native app is not)
LANGUAGES = ("english", "dutch", "german", "french", "spanish", "italian", "portuguese", "polish", "turkish", "arabic",
             "chinese", "mandarin", "japanese", "russian", "hindi", "flemish", "nederlands", "deutsch", "francais",
             "espanol")


def _phrases(table: dict[str, tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    out = {tuple(term.split()): what for what, terms in table.items() for term in terms}
    out.update({("native", language): LANGUAGE for language in LANGUAGES})
    return out


_TERMS = _phrases(TERMS)
_LONGEST = max(len(p) for p in _TERMS)
_AMBIGUOUS = {word: what for what, words in AMBIGUOUS.items() for word in words}


@dataclass(frozen=True)
class Match:
    """What a text names: the attribute, and the term that says so."""

    attribute: str
    term: str


def protected_term(text: str) -> Match | None:
    """The protected attribute (or proxy) ``text`` names, with the term found; None when it names none."""
    words = words_of(text)
    for size in range(min(_LONGEST, len(words)), 0, -1):  # longest phrases first: "date of birth" over "birth"
        for start in range(len(words) - size + 1):
            phrase = tuple(words[start : start + size])
            if phrase in _TERMS:
                return Match(_TERMS[phrase], " ".join(phrase))
    for word in words:
        for what, stems in COMPOUNDS.items():
            for stem in stems:
                if stem in word:
                    return Match(what, stem)
    ambiguous = [w for w in words if w in _AMBIGUOUS]
    if ambiguous and all(w in _AMBIGUOUS or w in FILLER for w in words):
        return Match(_AMBIGUOUS[ambiguous[0]], ambiguous[0])
    return None


def protected_match(text: str) -> str | None:
    """What protected attribute ``text`` names, or None (see :func:`protected_term`)."""
    match = protected_term(text)
    return None if match is None else match.attribute


def _get(item: Any, key: str) -> Any:
    """A key of a mapping or an attribute of a model (a spec is checked as a YAML mapping or built in code)."""
    if isinstance(item, Mapping):
        return item.get(key)
    return getattr(item, key, None)


def _items(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


def scan(data: Any) -> list[tuple[tuple[Any, ...], str, Any]]:
    """Every place a job model (a mapping, or the fields of a spec) names a protected attribute: ``(location,
    message, text)``, the location a path into the document. Reviewed exceptions (``protected_exceptions``:
    ``applies_to`` an evidence id, a criterion id or an input) are honoured; an exception that covers nothing
    the check refuses is itself reported, so that the declared exceptions stay true."""
    found: list[tuple[tuple[Any, ...], str, Any, set[str]]] = []  # location, message, text, names it goes by
    for i, item in enumerate(_items(_get(data, "evidence"))):
        eid = _get(item, "id")
        for key in ("id", "name", "competency"):
            text = _get(item, key)
            if isinstance(text, str) and (match := protected_term(text)):
                found.append((("evidence", i, key), f"evidence {eid!r} concerns {match.attribute} ({match.term!r}), "
                              "a protected attribute or its proxy", text, {str(eid), f"evidence.{eid}"}))
                break
    for i, criterion in enumerate(_items(_get(data, "criteria"))):
        cid, ref = _get(criterion, "id"), _get(criterion, "input")
        names = {str(cid), str(ref)}
        if isinstance(ref, str) and "." in ref:
            names.add(ref.partition(".")[2])
        if isinstance(cid, str) and (match := protected_term(cid)):
            found.append((("criteria", i, "id"), f"criterion {cid!r} concerns {match.attribute} ({match.term!r}), a "
                          "protected attribute or its proxy", cid, names))
        if isinstance(ref, str) and "." in ref and (match := protected_term(ref.partition(".")[2])):
            found.append((("criteria", i, "input"), f"input {ref!r} concerns {match.attribute} ({match.term!r}), "
                          "a protected attribute or its proxy", ref, names))
    exceptions = [(i, _get(e, "applies_to")) for i, e in enumerate(_items(_get(data, "protected_exceptions")))]
    used: set[int] = set()
    problems = []
    for location, message, text, names in found:
        covering = [i for i, target in exceptions if target in names]
        if covering:
            used.update(covering)
            continue
        problems.append((location, f"{message}; it can never be part of a job model, unless a psychologist has "
                         "reviewed it and declares it under protected_exceptions with a written justification",
                         text))
    for i, target in exceptions:
        if i not in used:
            problems.append((("protected_exceptions", i, "applies_to"), f"{target!r} names no input, criterion or "
                             "evidence that the protected-attribute check refuses: remove this exception", target))
    return problems


__all__ = ["AMBIGUOUS", "COMPOUNDS", "FILLER", "Match", "TERMS", "plain", "protected_match", "protected_term",
           "scan", "words_of"]
