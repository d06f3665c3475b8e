"""Versioned, hashed JSON artifacts (norm tables, factor models, calibrations): one way to seal and check them.

An artifact's ``sha256`` is the SHA-256 of the canonical JSON of everything else in it (keys sorted, no
whitespace, UTF-8, no NaN). Floats are written with Python's shortest round-trip repr, so an artifact saved
and loaded back is identical, and any edit after sealing is detected on load.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(data: Any) -> str:
    """The canonical serialisation that hashes are computed over."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_sha256(data: dict[str, Any], *, exclude: str = "sha256") -> str:
    """``sha256:<hex>`` of ``data`` without its own ``exclude`` field."""
    content = {k: v for k, v in data.items() if k != exclude}
    return "sha256:" + hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def pretty_json(data: Any) -> str:
    """Readable JSON for files in models/ (the hash does not depend on the layout)."""
    return json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def document_hash(spec: Any) -> str:
    """``sha256:<hex>`` of a validated document (a pydantic model): defaults filled in, keys sorted.

    Comments, quoting and layout of the YAML it came from do not change it; any change of content does.
    """
    return "sha256:" + hashlib.sha256(canonical_json(spec.model_dump(mode="json")).encode("utf-8")).hexdigest()
