"""Each role against each workspace route (a table written here, independently of the app's own), and
another organisation's ids refused."""

from __future__ import annotations

import pytest

from profiler.integration.staff import ROLES
from profiler.web.workspace.auth import ROUTE_PERMISSIONS

from .conftest import signed_in_as

ALL = set(ROLES)
DECIDERS = {"recruiter", "hiring_manager", "psychologist"}
# (method, path) -> the roles that may use it. A new route must be added here, or test_every_route_is_listed fails.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("GET", "/w"): ALL,
    ("POST", "/w/sign-out"): ALL,
}
# A path with {placeholders} is tried with these values (ids that exist in the organisation signed in).
EXAMPLES: dict[str, str] = {}


def test_every_route_is_listed():
    assert set(ROUTE_PERMISSIONS) == set(EXPECTED)


CASES = [(method, path, role) for (method, path) in EXPECTED for role in sorted(ALL)]


@pytest.mark.parametrize("method,path,role", CASES, ids=[f"{m} {p} {r}" for m, p, r in CASES])
def test_role_against_route(client, staff, method, path, role):
    csrf = signed_in_as(client, staff, role)
    url = path.format(**EXAMPLES)
    response = client.get(url) if method == "GET" else client.post(url, data={"csrf": csrf})
    denied = response.status_code == 403 and "Not for your role" in response.text
    assert denied == (role not in EXPECTED[(method, path)]), (response.status_code, response.text[:300])
    assert response.status_code < 500


@pytest.mark.parametrize("method,path", list(EXPECTED))
def test_signed_out_visitors_get_nothing(client, method, path):
    url = path.format(**EXAMPLES)
    response = client.get(url) if method == "GET" else client.post(url, data={})
    if method == "GET":
        assert response.status_code == 303 and response.headers["location"].startswith("/w/sign-in")
    else:
        assert response.status_code == 401
