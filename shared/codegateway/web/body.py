"""Read a request body, refusing more than the configured limit before it is all in memory."""

from __future__ import annotations

from starlette.requests import Request

from codegateway.errors import RequestTooLarge

MIB = 1024 * 1024


def _too_large(limit: int, size_text: str) -> RequestTooLarge:
    return RequestTooLarge(
        f"The request body is {size_text} bytes; this gateway accepts at most {limit} bytes "
        f"({limit / MIB:g} MiB), the request cap of the Lambda Function URL it runs behind. "
        "Shorten the conversation (e.g. /compact in Claude Code); operators on other hosts can raise "
        "CGW_MAX_BODY_BYTES."
    )


async def read_limited_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, declared)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, f"more than {limit}")
        chunks.append(chunk)
    return b"".join(chunks)
