"""Tables as CSV downloads: every cell safe in a spreadsheet (a formula start gets an apostrophe)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fastapi.responses import Response

from profiler.batch.writers import csv_field


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = [",".join(csv_field(str(h)) for h in header)]
    lines += [",".join(csv_field("" if v is None else str(v)) for v in row) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Response:
    return Response(csv_text(header, rows), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


__all__ = ["csv_response", "csv_text"]
