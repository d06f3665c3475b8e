"""The reports in a real browser: headless Chromium loads each page without console messages and prints it
to PDF. Skipped, with the reason, where no Chromium is installed (.ci/run installs Debian's)."""

from __future__ import annotations

from pathlib import Path

import pytest

PAGES = ["recruiter.html", "candidate.html", "cohort.html", "fairness.html"]


def console_lines(stderr: str) -> list[str]:
    """Chromium's console messages (``--enable-logging=stderr``): lines naming CONSOLE."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line]


def print_pdf(chromium, page: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    pdf = tmp_path / (page.stem + ".pdf")
    done = chromium(page, tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}")
    assert done.returncode == 0, done.stderr[-2000:]
    return pdf, console_lines(done.stderr)


@pytest.fixture(scope="module")
def pages(lib, case, cohort, audit) -> dict[str, str]:
    return lib.render_all(case, cohort, audit)


@pytest.mark.parametrize("name", PAGES)
def test_report_prints_to_pdf_without_console_messages(chromium, pages, name, tmp_path):
    page = tmp_path / name
    page.write_text(pages[name], encoding="utf-8")
    pdf, console = print_pdf(chromium, page, tmp_path)
    assert console == [], f"console messages while loading {name}: {console}"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    assert pdf.stat().st_size > 10_000


def test_console_errors_are_detected(chromium, tmp_path):
    """The check above can fail: a page whose script throws shows a CONSOLE line."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>",
                    encoding="utf-8")
    _, console = print_pdf(chromium, page, tmp_path)
    assert any("undefinedFunction" in line for line in console), console
