"""Page cursors: a DynamoDB LastEvaluatedKey as an opaque URL-safe string, and back."""

from __future__ import annotations

import base64
import binascii

import orjson

from codegateway.store.items import Item


def encode_cursor(key: Item | None) -> str | None:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode() if key else None


def decode_cursor(cursor: str) -> Item:
    """ValueError for anything that is not a cursor this module made."""
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, orjson.JSONDecodeError, UnicodeEncodeError) as error:
        raise ValueError("not a page cursor") from error
    if not isinstance(decoded, dict) or not all(
        isinstance(value, dict) and len(value) == 1 and set(value) <= {"S", "N"} for value in decoded.values()
    ):
        raise ValueError("not a page cursor")
    return decoded
