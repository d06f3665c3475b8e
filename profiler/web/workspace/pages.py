"""The workspace's home page: who is signed in, and the pages their role opens."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from profiler.web.workspace.access import allowed
from profiler.web.workspace.auth import PATH, ROUTE_PERMISSIONS, me, page, route, router

# The sections of the workspace, each with the permission that opens it (the home page lists those allowed).
SECTIONS = [
    ("queue", f"{PATH}/queue", "Review queue", "recommendations waiting for a person, open contests, stopped models"),
    ("oversight", f"{PATH}/oversight", "Oversight",
     "override and contest rates, also over time; the audit log's verification"),
    ("stop", f"{PATH}/models", "Job models", "stop or resume a job model"),
    ("fairness", f"{PATH}/fairness", "Fairness audits",
     "impact ratios of a job model version's recommendations, the NYC LL144 tables"),
    ("psychology", f"{PATH}/instruments", "Questionnaires and job models",
     "versions, hashes, calibrations, manuals, what changed"),
]


@route("GET", PATH, "home")
def home(request: Request) -> HTMLResponse:
    staffer = me(request)
    sections = [s for s in SECTIONS if allowed(staffer.user.role, s[0]) and ("GET", s[1]) in ROUTE_PERMISSIONS]
    return page("home.html", me=staffer, sections=sections)


__all__ = ["SECTIONS", "router"]
