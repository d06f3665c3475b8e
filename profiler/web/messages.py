"""The candidate pages' wording in each language the app speaks (English, French, German).

A page is in the invitation's language when its wording exists here, in English otherwise; the ``lang``
attribute of the page says which (WCAG 3.1.1), and text from another source in another language (an item
without a translation, a job model's English rationale) carries its own ``lang`` (3.1.2).
"""

from __future__ import annotations

from collections.abc import Callable

DEFAULT = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "skip_link": "Skip to content",
        "invalid_title": "This link does not work",
        "invalid_unknown": "This link is not valid. If you copied it from a message, check that it is complete.",
        "invalid_expired": "This invitation has expired.",
        "invalid_revoked": "This invitation was withdrawn.",
        "invalid_used": "This invitation has already been used.",
        "invalid_contact": "If you think this is a mistake, please contact the organisation that invited you.",
        "too_many": "Too many attempts from your network. Please wait a minute and try again.",
        "session_lost": "Please open the link from your invitation again to continue.",
        "forbidden_form": "This form could not be accepted (it did not come from this page). Please open your "
                          "invitation link again.",
        "consent_title": "Before you start",
        "consent_intro": "{organisation} invites you to answer a questionnaire for the role of {role}.",
        "consent_who": "Who assesses",
        "consent_who_text": "{organisation}. Questions and requests about your data: {contact}.",
        "consent_what": "What is measured and why",
        "consent_what_text": "“{questionnaire}” has {items} short statements about how you usually behave. It is "
                             "not a test of ability, and there are no right or wrong answers. It measures:",
        "consent_used_for": "Used for this role because:",
        "consent_not_used": "Not used in the suggestion for this role.",
        "consent_time": "How long it takes",
        "consent_time_untimed": "About {minutes} minutes. There is no time limit; you can save and continue later "
                                "from the same link, also on another device.",
        "consent_time_timed": "You have {minutes} minutes once you start; the clock keeps running if you leave.",
        "consent_decides": "Who decides",
        "consent_decides_text": "Your answers produce a suggestion. A person at {organisation} reads it, with how "
                                "precise it is, and decides. Nothing is decided automatically.",
        "consent_contest": "If you disagree",
        "consent_contest_text": "You can contest the decision: a second person reviews it and answers within "
                                "{days} days.",
        "consent_data": "Your data",
        "consent_data_text": "Your answers are stored under a pseudonym, not your name. They are kept for {days} "
                             "days after the decision, then erased. You can ask {contact} for a copy of everything "
                             "held about you, or for its erasure, at any time.",
        "consent_report": "You will be able to read a report on your results.",
        "consent_question": "Do you agree to take part?",
        "consent_give": "I agree, start",
        "consent_refuse": "I do not agree",
        "declined_title": "You declined",
        "declined_text": "You declined to take part. Only your refusal has been recorded; no answers were "
                         "stored. You can close this page.",
        "item_title": "Question {number} of {total}",
        "item_title_adaptive": "Question {number} (at most {total})",
        "answered_adaptive": "{done} answered. The questions are chosen from your answers so far, and it ends as "
                             "soon as it has measured enough: at most {total} questions.",
        "consent_what_adaptive": "“{questionnaire}” has at most {items} short statements about how you usually "
                                 "behave, each chosen from your answers so far, so it may end sooner. It is not a "
                                 "test of ability, and there are no right or wrong answers. It measures:",
        "part": "Part {page} of {pages}",
        "progress": "Progress",
        "answered_of": "{done} of {total} answered",
        "time_left": "Time left: {minutes} min {seconds} s",
        "next": "Next",
        "back": "Back",
        "skip": "Skip this question",
        "pause": "Save and continue later",
        "required_hint": "This question needs an answer.",
        "optional_hint": "You may skip this question.",
        "choose": "Please choose one of the answers.",
        "number_hint": "Enter a number from {min} to {max}.",
        "number_label": "Your answer",
        "stale": "This page was out of date (it was answered in another window or tab); nothing was changed. "
                 "Here is where you are.",
        "not_allowed": "That is not possible here.",
        "translation_note": "This statement is shown in English: it has no translation yet.",
        "finish_title": "All questions answered",
        "finish_text": "You have reached the end. You can finish now{back}.",
        "finish_back": " or go back to change an answer",
        "finish": "Finish and send",
        "required_left": "{count} required question(s) still need an answer. Go back to answer them.",
        "paused_title": "Your answers are saved",
        "paused_text": "You can continue later from the same link, on this or another device.",
        "done_title": "Thank you",
        "done_text": "Your answers have been recorded.",
        "done_expired": "The time limit was reached. The answers you gave have been recorded.",
        "done_next": "What happens next",
        "done_next_text": "A person at {organisation} will look at the suggestion your answers produced and "
                          "decide. Nothing is decided automatically.",
        "done_contest": "If you disagree with the decision you can contest it with {contact}; a second person "
                        "reviews it within {days} days.",
        "done_data": "Your answers are kept for {days} days after the decision. You can ask {contact} for a copy "
                     "or for their erasure at any time.",
        "done_report": "Read your report",
        "done_report_pending": "Your report will be available here once your answers have been processed.",
        "report_unavailable": "No report is available for this invitation.",
        "home_title": "Assessments",
        "home_text": "This service is reached through the personal link in your invitation.",
    },
    "fr": {
        "skip_link": "Aller au contenu",
        "invalid_title": "Ce lien ne fonctionne pas",
        "invalid_unknown": "Ce lien n’est pas valide. Si vous l’avez copié d’un message, vérifiez qu’il est complet.",
        "invalid_expired": "Cette invitation a expiré.",
        "invalid_revoked": "Cette invitation a été retirée.",
        "invalid_used": "Cette invitation a déjà été utilisée.",
        "invalid_contact": "S’il s’agit d’une erreur, contactez l’organisation qui vous a invité.",
        "too_many": "Trop de tentatives depuis votre réseau. Attendez une minute puis réessayez.",
        "session_lost": "Rouvrez le lien de votre invitation pour continuer.",
        "forbidden_form": "Ce formulaire n’a pas pu être accepté (il ne provient pas de cette page). Rouvrez le "
                          "lien de votre invitation.",
        "consent_title": "Avant de commencer",
        "consent_intro": "{organisation} vous invite à répondre à un questionnaire pour le poste « {role} ».",
        "consent_who": "Qui évalue",
        "consent_who_text": "{organisation}. Questions et demandes concernant vos données : {contact}.",
        "consent_what": "Ce qui est mesuré et pourquoi",
        "consent_what_text": "« {questionnaire} » comporte {items} courtes affirmations sur votre façon habituelle "
                             "d’agir. Ce n’est pas un test d’aptitude et il n’y a pas de bonne ou de mauvaise "
                             "réponse. Il mesure :",
        "consent_used_for": "Utilisé pour ce poste parce que :",
        "consent_not_used": "Non utilisé dans la suggestion pour ce poste.",
        "consent_time": "Durée",
        "consent_time_untimed": "Environ {minutes} minutes. Il n’y a pas de limite de temps ; vous pouvez "
                                "enregistrer et reprendre plus tard avec le même lien, aussi sur un autre appareil.",
        "consent_time_timed": "Vous disposez de {minutes} minutes une fois commencé ; le temps continue de "
                              "s’écouler si vous partez.",
        "consent_decides": "Qui décide",
        "consent_decides_text": "Vos réponses produisent une suggestion. Une personne de {organisation} la lit, "
                                "avec sa précision, et décide. Rien n’est décidé automatiquement.",
        "consent_contest": "En cas de désaccord",
        "consent_contest_text": "Vous pouvez contester la décision : une seconde personne la réexamine et répond "
                                "sous {days} jours.",
        "consent_data": "Vos données",
        "consent_data_text": "Vos réponses sont enregistrées sous un pseudonyme, pas sous votre nom. Elles sont "
                             "conservées {days} jours après la décision, puis effacées. Vous pouvez demander à "
                             "{contact} une copie de tout ce qui est conservé à votre sujet, ou son effacement, à "
                             "tout moment.",
        "consent_report": "Vous pourrez lire un rapport sur vos résultats.",
        "consent_question": "Acceptez-vous de participer ?",
        "consent_give": "J’accepte, commencer",
        "consent_refuse": "Je n’accepte pas",
        "declined_title": "Vous avez refusé",
        "declined_text": "Vous avez refusé de participer. Seul votre refus a été enregistré ; aucune réponse n’a "
                         "été conservée. Vous pouvez fermer cette page.",
        "item_title": "Question {number} sur {total}",
        "item_title_adaptive": "Question {number} (au plus {total})",
        "answered_adaptive": "{done} répondues. Les questions sont choisies d’après vos réponses précédentes, et "
                             "le questionnaire s’arrête dès qu’il a assez mesuré : au plus {total} questions.",
        "consent_what_adaptive": "« {questionnaire} » comporte au plus {items} courtes affirmations sur votre façon "
                                 "habituelle d’agir, chacune choisie d’après vos réponses précédentes : il peut "
                                 "donc finir plus tôt. Ce n’est pas un test d’aptitude et il n’y a pas de bonne ou "
                                 "de mauvaise réponse. Il mesure :",
        "part": "Partie {page} sur {pages}",
        "progress": "Progression",
        "answered_of": "{done} sur {total} répondues",
        "time_left": "Temps restant : {minutes} min {seconds} s",
        "next": "Suivant",
        "back": "Retour",
        "skip": "Passer cette question",
        "pause": "Enregistrer et reprendre plus tard",
        "required_hint": "Cette question demande une réponse.",
        "optional_hint": "Vous pouvez passer cette question.",
        "choose": "Veuillez choisir une des réponses.",
        "number_hint": "Saisissez un nombre de {min} à {max}.",
        "number_label": "Votre réponse",
        "stale": "Cette page n’était plus à jour (elle a reçu une réponse dans une autre fenêtre ou un autre "
                 "onglet) ; rien n’a été modifié. Voici où vous en êtes.",
        "not_allowed": "Ce n’est pas possible ici.",
        "translation_note": "Cette affirmation est affichée en anglais : elle n’est pas encore traduite.",
        "finish_title": "Toutes les questions sont répondues",
        "finish_text": "Vous êtes arrivé à la fin. Vous pouvez terminer maintenant{back}.",
        "finish_back": " ou revenir en arrière pour modifier une réponse",
        "finish": "Terminer et envoyer",
        "required_left": "{count} question(s) obligatoire(s) attendent encore une réponse. Revenez en arrière "
                         "pour y répondre.",
        "paused_title": "Vos réponses sont enregistrées",
        "paused_text": "Vous pourrez reprendre plus tard avec le même lien, sur cet appareil ou un autre.",
        "done_title": "Merci",
        "done_text": "Vos réponses ont été enregistrées.",
        "done_expired": "Le temps imparti est écoulé. Les réponses données ont été enregistrées.",
        "done_next": "La suite",
        "done_next_text": "Une personne de {organisation} examinera la suggestion produite par vos réponses et "
                          "décidera. Rien n’est décidé automatiquement.",
        "done_contest": "Si vous n’êtes pas d’accord avec la décision, vous pouvez la contester auprès de "
                        "{contact} ; une seconde personne la réexamine sous {days} jours.",
        "done_data": "Vos réponses sont conservées {days} jours après la décision. Vous pouvez en demander une "
                     "copie ou l’effacement à {contact} à tout moment.",
        "done_report": "Lire votre rapport",
        "done_report_pending": "Votre rapport sera disponible ici une fois vos réponses traitées.",
        "report_unavailable": "Aucun rapport n’est disponible pour cette invitation.",
        "home_title": "Évaluations",
        "home_text": "Ce service s’ouvre avec le lien personnel de votre invitation.",
    },
    "de": {
        "skip_link": "Zum Inhalt springen",
        "invalid_title": "Dieser Link funktioniert nicht",
        "invalid_unknown": "Dieser Link ist ungültig. Wenn Sie ihn aus einer Nachricht kopiert haben, prüfen Sie, "
                           "ob er vollständig ist.",
        "invalid_expired": "Diese Einladung ist abgelaufen.",
        "invalid_revoked": "Diese Einladung wurde zurückgezogen.",
        "invalid_used": "Diese Einladung wurde bereits verwendet.",
        "invalid_contact": "Wenn Sie einen Fehler vermuten, wenden Sie sich an die Organisation, die Sie "
                           "eingeladen hat.",
        "too_many": "Zu viele Versuche aus Ihrem Netzwerk. Bitte warten Sie eine Minute.",
        "session_lost": "Bitte öffnen Sie den Link aus Ihrer Einladung erneut, um fortzufahren.",
        "forbidden_form": "Dieses Formular konnte nicht angenommen werden (es stammt nicht von dieser Seite). "
                          "Bitte öffnen Sie Ihren Einladungslink erneut.",
        "consent_title": "Bevor Sie beginnen",
        "consent_intro": "{organisation} lädt Sie ein, einen Fragebogen für die Stelle „{role}“ zu beantworten.",
        "consent_who": "Wer beurteilt",
        "consent_who_text": "{organisation}. Fragen und Anliegen zu Ihren Daten: {contact}.",
        "consent_what": "Was gemessen wird und warum",
        "consent_what_text": "„{questionnaire}“ enthält {items} kurze Aussagen darüber, wie Sie sich gewöhnlich "
                             "verhalten. Es ist kein Leistungstest, und es gibt keine richtigen oder falschen "
                             "Antworten. Gemessen wird:",
        "consent_used_for": "Für diese Stelle verwendet, weil:",
        "consent_not_used": "Für den Vorschlag zu dieser Stelle nicht verwendet.",
        "consent_time": "Dauer",
        "consent_time_untimed": "Etwa {minutes} Minuten. Es gibt kein Zeitlimit; Sie können speichern und später "
                                "mit demselben Link fortfahren, auch auf einem anderen Gerät.",
        "consent_time_timed": "Nach dem Start haben Sie {minutes} Minuten; die Zeit läuft weiter, wenn Sie die "
                              "Seite verlassen.",
        "consent_decides": "Wer entscheidet",
        "consent_decides_text": "Ihre Antworten ergeben einen Vorschlag. Eine Person bei {organisation} liest ihn "
                                "samt seiner Genauigkeit und entscheidet. Nichts wird automatisch entschieden.",
        "consent_contest": "Wenn Sie nicht einverstanden sind",
        "consent_contest_text": "Sie können der Entscheidung widersprechen: Eine zweite Person prüft sie und "
                                "antwortet innerhalb von {days} Tagen.",
        "consent_data": "Ihre Daten",
        "consent_data_text": "Ihre Antworten werden unter einem Pseudonym gespeichert, nicht unter Ihrem Namen. "
                             "Sie werden {days} Tage nach der Entscheidung aufbewahrt und dann gelöscht. Sie "
                             "können bei {contact} jederzeit eine Kopie aller Daten über Sie oder deren Löschung "
                             "verlangen.",
        "consent_report": "Sie können einen Bericht über Ihre Ergebnisse lesen.",
        "consent_question": "Sind Sie mit der Teilnahme einverstanden?",
        "consent_give": "Einverstanden, beginnen",
        "consent_refuse": "Nicht einverstanden",
        "declined_title": "Sie haben abgelehnt",
        "declined_text": "Sie haben die Teilnahme abgelehnt. Nur Ihre Ablehnung wurde gespeichert; keine "
                         "Antworten. Sie können diese Seite schließen.",
        "item_title": "Frage {number} von {total}",
        "item_title_adaptive": "Frage {number} (höchstens {total})",
        "answered_adaptive": "{done} beantwortet. Die Fragen werden nach Ihren bisherigen Antworten gewählt, und "
                             "es endet, sobald genug gemessen ist: höchstens {total} Fragen.",
        "consent_what_adaptive": "„{questionnaire}“ enthält höchstens {items} kurze Aussagen darüber, wie Sie sich "
                                 "gewöhnlich verhalten, jede nach Ihren bisherigen Antworten gewählt; es kann also "
                                 "früher enden. Es ist kein Leistungstest, und es gibt keine richtigen oder "
                                 "falschen Antworten. Gemessen wird:",
        "part": "Teil {page} von {pages}",
        "progress": "Fortschritt",
        "answered_of": "{done} von {total} beantwortet",
        "time_left": "Verbleibende Zeit: {minutes} Min. {seconds} s",
        "next": "Weiter",
        "back": "Zurück",
        "skip": "Frage überspringen",
        "pause": "Speichern und später fortfahren",
        "required_hint": "Diese Frage muss beantwortet werden.",
        "optional_hint": "Sie können diese Frage überspringen.",
        "choose": "Bitte wählen Sie eine der Antworten.",
        "number_hint": "Geben Sie eine Zahl von {min} bis {max} ein.",
        "number_label": "Ihre Antwort",
        "stale": "Diese Seite war nicht mehr aktuell (sie wurde in einem anderen Fenster oder Tab beantwortet); "
                 "nichts wurde geändert. Hier stehen Sie.",
        "not_allowed": "Das ist hier nicht möglich.",
        "translation_note": "Diese Aussage wird auf Englisch angezeigt: Sie ist noch nicht übersetzt.",
        "finish_title": "Alle Fragen beantwortet",
        "finish_text": "Sie sind am Ende angelangt. Sie können jetzt abschließen{back}.",
        "finish_back": " oder zurückgehen, um eine Antwort zu ändern",
        "finish": "Abschließen und senden",
        "required_left": "{count} Pflichtfrage(n) sind noch unbeantwortet. Gehen Sie zurück, um sie zu "
                         "beantworten.",
        "paused_title": "Ihre Antworten sind gespeichert",
        "paused_text": "Sie können später mit demselben Link fortfahren, auf diesem oder einem anderen Gerät.",
        "done_title": "Vielen Dank",
        "done_text": "Ihre Antworten wurden gespeichert.",
        "done_expired": "Die Zeit ist abgelaufen. Ihre bisherigen Antworten wurden gespeichert.",
        "done_next": "Wie es weitergeht",
        "done_next_text": "Eine Person bei {organisation} prüft den Vorschlag, der sich aus Ihren Antworten "
                          "ergibt, und entscheidet. Nichts wird automatisch entschieden.",
        "done_contest": "Wenn Sie mit der Entscheidung nicht einverstanden sind, können Sie bei {contact} "
                        "widersprechen; eine zweite Person prüft sie innerhalb von {days} Tagen.",
        "done_data": "Ihre Antworten werden {days} Tage nach der Entscheidung aufbewahrt. Sie können bei "
                     "{contact} jederzeit eine Kopie oder die Löschung verlangen.",
        "done_report": "Ihren Bericht lesen",
        "done_report_pending": "Ihr Bericht steht hier bereit, sobald Ihre Antworten verarbeitet sind.",
        "report_unavailable": "Für diese Einladung ist kein Bericht verfügbar.",
        "home_title": "Einschätzungen",
        "home_text": "Dieser Dienst wird über den persönlichen Link in Ihrer Einladung geöffnet.",
    },
}


def page_language(language: str | None) -> str:
    """The language a page is written in: ``language`` (or its base, ``fr`` for ``fr-CA``) when the app speaks
    it, English otherwise."""
    if not language:
        return DEFAULT
    if language in MESSAGES:
        return language
    base = language.split("-")[0]
    return base if base in MESSAGES else DEFAULT


def translator(language: str) -> Callable[..., str]:
    """``t(key, **values)``: the wording of ``key`` in the page's language, with ``values`` filled in."""
    table = MESSAGES[page_language(language)]

    def t(key: str, **values: object) -> str:
        text = table.get(key) or MESSAGES[DEFAULT][key]
        return text.format(**values) if values else text

    return t
