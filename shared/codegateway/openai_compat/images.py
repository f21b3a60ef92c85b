"""OpenAI `image_url` parts -> Messages API image blocks. No I/O.

A `data:` URL becomes a base64 source, an http(s) URL a url source (the API fetches it). The API takes
only JPEG, PNG, GIF and WebP and rejects an image whose bytes do not match the declared media type,
while OpenAI clients often declare `image/jpg`, `application/octet-stream` or nothing at all. So the
first bytes decide when they are recognisable, and the declared type only when they are not.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from codegateway.openai_compat.errors import InvalidChatRequest

SUPPORTED_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_MEDIA_TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}
_SNIFF_BASE64_CHARS = 24  # decodes to 18 bytes: enough for every signature below


def image_block(image_url: object, where: str) -> dict[str, Any]:
    # The documented shape is {"url": ..., "detail": ...}; some clients send the URL string itself.
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str) or not url:
        raise InvalidChatRequest(f"{where}.image_url.url: an image URL is required.", param=where)
    if url[:5].lower() == "data:":
        return {"type": "image", "source": _base64_source(url[5:], where)}
    scheme = url.partition(":")[0].lower()
    if scheme in ("http", "https"):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise InvalidChatRequest(
        f"{where}.image_url.url: use a data: URL (base64) or an http(s) URL, not {scheme!r}.", param=where
    )


def _base64_source(data_url_body: str, where: str) -> dict[str, str]:
    header, comma, data = data_url_body.partition(",")
    declared, *parameters = (piece.strip().lower() for piece in header.split(";"))
    if not comma or "base64" not in parameters:
        raise InvalidChatRequest(f"{where}.image_url.url: a data: URL image must be base64-encoded.", param=where)
    data = data.strip()
    if not data:
        raise InvalidChatRequest(f"{where}.image_url.url: the data: URL holds no image data.", param=where)
    media_type = sniffed_media_type(data) or _MEDIA_TYPE_ALIASES.get(declared, declared)
    if media_type not in SUPPORTED_MEDIA_TYPES:
        raise InvalidChatRequest(
            f"{where}.image_url.url: image type {declared or 'unknown'!r} is not supported; "
            f"send one of {', '.join(SUPPORTED_MEDIA_TYPES)}.",
            param=where,
        )
    return {"type": "base64", "media_type": media_type, "data": data}


def sniffed_media_type(base64_data: str) -> str | None:
    head = base64_data[:_SNIFF_BASE64_CHARS]
    try:
        first_bytes = base64.b64decode(head + "=" * (-len(head) % 4))
    except (binascii.Error, ValueError):
        return None
    if first_bytes.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if first_bytes.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if first_bytes[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if first_bytes[:4] == b"RIFF" and first_bytes[8:12] == b"WEBP":
        return "image/webp"
    return None
