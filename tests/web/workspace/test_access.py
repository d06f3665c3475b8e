"""Each role against each workspace route (a table written here, independently of the app's own), and
another organisation's ids refused."""

from __future__ import annotations

import pytest

from profiler.integration.staff import ROLES
from profiler.web.workspace.auth import ROUTE_PERMISSIONS

from .conftest import signed_in_as

ALL = set(ROLES)
DECIDERS = {"recruiter", "hiring_manager", "psychologist"}
READERS = DECIDERS | {"auditor", "admin"}
OVERSEERS = {"auditor", "operator", "admin"}
# (method, path) -> the roles that may use it. A new route must be added here, or test_every_route_is_listed fails.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("GET", "/w"): ALL,
    ("POST", "/w/sign-out"): ALL,
    ("GET", "/w/queue"): READERS,
    ("GET", "/w/queue.csv"): READERS,
    ("GET", "/w/queue/{which}.csv"): READERS,
    ("GET", "/w/cases/{recommendation_id}"): READERS,
    ("GET", "/w/cases/{recommendation_id}/{which}.csv"): READERS,
    ("POST", "/w/cases/{recommendation_id}/decide"): DECIDERS,
    ("POST", "/w/cases/{recommendation_id}/confirm"): DECIDERS,
    ("POST", "/w/cases/{recommendation_id}/refuse"): DECIDERS,
    ("POST", "/w/cases/{recommendation_id}/contest"): DECIDERS | {"admin"},
    ("GET", "/w/oversight"): OVERSEERS,
    ("GET", "/w/oversight/{which}.csv"): OVERSEERS,
    ("GET", "/w/audit"): OVERSEERS,
    ("GET", "/w/models"): {"operator", "admin"},
    ("GET", "/w/models/{which}.csv"): {"operator", "admin"},
    ("POST", "/w/models/stop"): {"operator", "admin"},
    ("POST", "/w/models/resume"): {"operator", "admin"},
    ("GET", "/w/instruments"): {"psychologist", "auditor", "admin"},
    ("GET", "/w/instruments.csv"): {"psychologist", "auditor", "admin"},
    ("GET", "/w/instruments/calibrations.csv"): {"psychologist", "auditor", "admin"},
    ("GET", "/w/instruments/manuals/{questionnaire_id}"): {"psychologist", "auditor", "admin"},
    ("GET", "/w/instruments/diff"): {"psychologist", "auditor", "admin"},
    ("GET", "/w/instruments/diff.csv"): {"psychologist", "auditor", "admin"},
    ("GET", "/w/fairness"): {"psychologist", "auditor", "operator", "admin"},
    ("GET", "/w/fairness/{table}.csv"): {"psychologist", "auditor", "operator", "admin"},
}


# The {which} of each route with one: a table that exists.
WHICH = {"/w/oversight/{which}.csv": "reviewers", "/w/queue/{which}.csv": "contests",
         "/w/cases/{recommendation_id}/{which}.csv": "history", "/w/models/{which}.csv": "stops"}


def examples(recs: dict[str, int], path: str = "") -> dict[str, object]:
    """Values for the {placeholders} of a path: ids that exist in acme, the organisation signed in."""
    return {"recommendation_id": recs["cand-a0"], "which": WHICH.get(path, "reviewers"), "table": "summary",
            "questionnaire_id": "ipip-bfm-50"}


# Routes of /w that anyone may open: signing in (with a password, or through the organisation's provider), and
# the reports' stylesheet.
PUBLIC = {("GET", "/w/sign-in"), ("POST", "/w/sign-in"), ("GET", "/w/sign-in/oidc/{organisation}"),
          ("GET", "/w/oidc/callback"), ("GET", "/w/report.css")}


def test_every_route_is_listed():
    from profiler.web.workspace.auth import router

    assert set(ROUTE_PERMISSIONS) == set(EXPECTED)
    served = {(method, route.path) for route in router.routes for method in route.methods if method != "HEAD"}
    assert served == set(EXPECTED) | PUBLIC  # no route of the workspace escapes the table


@pytest.mark.parametrize("method,path", sorted(PUBLIC))
def test_public_routes_open_no_page_of_the_workspace(client, method, path):
    url = path.format(organisation="acme")
    response = client.get(url) if method == "GET" else client.post(url, data={})
    assert response.status_code in {200, 400, 403, 404}, (response.status_code, response.text[:300])
    assert "profiler_staff" not in response.cookies and "Review queue" not in response.text


CASES = [(method, path, role) for (method, path) in EXPECTED for role in sorted(ALL)]


@pytest.mark.parametrize("method,path,role", CASES, ids=[f"{m} {p} {r}" for m, p, r in CASES])
def test_role_against_route(client, staff, recs, method, path, role):
    csrf = signed_in_as(client, staff, role)
    url = path.format(**examples(recs, path))
    response = client.get(url) if method == "GET" else client.post(url, data={"csrf": csrf})
    denied = response.status_code == 403 and "Not for your role" in response.text
    assert denied == (role not in EXPECTED[(method, path)]), (response.status_code, response.text[:300])
    assert response.status_code < 500


@pytest.mark.parametrize("method,path", list(EXPECTED))
def test_signed_out_visitors_get_nothing(client, recs, method, path):
    url = path.format(**examples(recs, path))
    response = client.get(url) if method == "GET" else client.post(url, data={})
    if method == "GET":
        assert response.status_code == 303 and response.headers["location"].startswith("/w/sign-in")
    else:
        assert response.status_code == 401


TENANT_ROUTES = [(m, p) for (m, p) in EXPECTED if "{recommendation_id}" in p]


@pytest.mark.parametrize("method,path", TENANT_ROUTES)
@pytest.mark.parametrize("role", sorted(DECIDERS | {"auditor", "admin"}))
def test_another_organisations_ids_are_refused_as_unknown(client, staff, store, recs, method, path, role):
    from profiler.oversight import AuditLog

    csrf = signed_in_as(client, staff, f"{role}-globex")  # globex staff, acme's case
    before = len(AuditLog(store))
    url = path.format(**examples(recs, path))
    form = {"csrf": csrf, "decision": "override", "outcome": "advance", "reason": "other", "note": "x"}
    response = client.get(url) if method == "GET" else client.post(url, data=form)
    if role in EXPECTED[(method, path)]:
        assert response.status_code == 404 and "no such case in your organisation" in response.text
        assert "cand-a0" not in response.text
    else:
        assert response.status_code == 403
    assert len(AuditLog(store)) == before  # nothing recorded
    missing = client.get(path.format(**{**examples(recs, path), "recommendation_id": "999999"})) \
        if method == "GET" else None
    assert missing is None or missing.status_code in (403, 404)
