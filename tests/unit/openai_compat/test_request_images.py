"""Image parts: data URLs become base64 sources typed by their bytes, http(s) URLs url sources."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from codegateway.openai_compat import InvalidChatRequest, to_anthropic_request

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 24).decode()
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\x00" * 24).decode()
GIF = base64.b64encode(b"GIF89a" + b"\x00" * 24).decode()
WEBP = base64.b64encode(b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 16).decode()
UNKNOWN_BYTES = base64.b64encode(b"not an image header at all").decode()


def _image_source(image_url: object) -> dict[str, Any]:
    message = {"role": "user", "content": [{"type": "text", "text": "What is this?"}, image_url]}
    request = to_anthropic_request({"model": "claude-sonnet-4-6", "messages": [message]})
    text, image = request["messages"][0]["content"]
    assert text == {"type": "text", "text": "What is this?"}
    assert image["type"] == "image"
    source: dict[str, Any] = image["source"]
    return source


def _part(url: str, detail: str = "auto") -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url, "detail": detail}}


def _base64(media_type: str, data: str) -> dict[str, str]:
    return {"type": "base64", "media_type": media_type, "data": data}


CASES = [
    pytest.param(_part(f"data:image/png;base64,{PNG}"), _base64("image/png", PNG), id="png"),
    pytest.param(
        _part(f"data:image/jpeg;base64,{JPEG}", "high"), _base64("image/jpeg", JPEG), id="jpeg-detail-ignored"
    ),
    pytest.param(_part(f"data:image/gif;base64,{GIF}"), _base64("image/gif", GIF), id="gif"),
    pytest.param(_part(f"data:image/webp;base64,{WEBP}"), _base64("image/webp", WEBP), id="webp"),
    pytest.param(_part(f"data:image/jpg;base64,{JPEG}"), _base64("image/jpeg", JPEG), id="image-jpg-alias"),
    pytest.param(_part(f"DATA:IMAGE/PNG;BASE64,{PNG}"), _base64("image/png", PNG), id="upper-case"),
    pytest.param(
        _part(f"data:image/png;charset=binary;base64,{PNG}"), _base64("image/png", PNG), id="extra-parameters"
    ),
    pytest.param(_part(f"data:image/jpeg;base64,{PNG}"), _base64("image/png", PNG), id="mislabelled-png-by-bytes"),
    pytest.param(
        _part(f"data:application/octet-stream;base64,{GIF}"), _base64("image/gif", GIF), id="octet-stream-by-bytes"
    ),
    pytest.param(_part(f"data:;base64,{WEBP}"), _base64("image/webp", WEBP), id="no-media-type-by-bytes"),
    pytest.param(
        _part(f"data:image/png;base64,{UNKNOWN_BYTES}"),
        _base64("image/png", UNKNOWN_BYTES),
        id="unrecognised-bytes-keep-declared-type",
    ),
    pytest.param(
        _part("https://example.com/cat.png"), {"type": "url", "url": "https://example.com/cat.png"}, id="https"
    ),
    pytest.param(
        {"type": "image_url", "image_url": "http://example.com/cat.png"},
        {"type": "url", "url": "http://example.com/cat.png"},
        id="bare-url-string",
    ),
]


@pytest.mark.parametrize(("part", "source"), CASES)
def test_image_parts_become_image_blocks(part: dict[str, Any], source: dict[str, str]) -> None:
    assert _image_source(part) == source


REFUSED = [
    pytest.param(_part(f"data:image/svg+xml;base64,{UNKNOWN_BYTES}"), id="svg"),
    pytest.param(_part(f"data:image/bmp;base64,{UNKNOWN_BYTES}"), id="bmp"),
    pytest.param(_part(f"data:;base64,{UNKNOWN_BYTES}"), id="no-type-unrecognised-bytes"),
    pytest.param(_part("data:image/png,%89PNG"), id="not-base64"),
    pytest.param(_part("data:image/png;base64,"), id="no-data"),
    pytest.param(_part("data:image/png;base64"), id="no-comma"),
    pytest.param(_part("file:///etc/passwd"), id="file-scheme"),
    pytest.param(_part(""), id="empty-url"),
    pytest.param({"type": "image_url"}, id="missing-image-url"),
]


@pytest.mark.parametrize("part", REFUSED)
def test_unusable_images_are_a_400_on_the_part(part: dict[str, Any]) -> None:
    with pytest.raises(InvalidChatRequest) as refused:
        _image_source(part)
    assert refused.value.param == "messages[0].content[1]"
