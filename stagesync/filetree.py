"""File trees inside records (a theme's files): how contents are held and digested.

A record holds a file tree as ``{path: content}``, where content is the file's text (UTF-8) or,
for anything else, ``{"base64": ...}``. The snapshot stores the same tree as real files, so the
conversion both ways must be exact: ``content_bytes(content_value(data)) == data``.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

Content = str | dict[str, str]


def content_value(data: bytes) -> Content:
    """A file's bytes as a record holds them."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def content_bytes(value: Any) -> bytes:
    """A record's file content back as bytes; ValueError if it is neither form."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and isinstance(value.get("base64"), str):
        return base64.b64decode(value["base64"], validate=True)
    raise ValueError(f"a file's content must be text or {{'base64': ...}}, not {value!r:.60}")


def file_hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
