"""The app's templates: one Jinja2 environment, autoescaping everything, and one way to render a page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from profiler.web.messages import page_language, translator

TEMPLATES = Path(__file__).parent / "templates"
HTMX = "htmx-2.0.11.min.js"

environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(template: str, language: str | None, *, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` in ``language`` (or English where the app does not speak it)."""
    lang = page_language(language)
    html = environment.get_template(template).render(lang=lang, t=translator(lang), htmx=HTMX, **context)
    return HTMLResponse(html, status_code=status)
