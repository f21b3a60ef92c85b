"""python -m tests.load.speculation_ttfb [N]: TTFB through two proxies on one local DynamoDB, one with
speculative admission and one without (CGW_SPECULATIVE_ADMISSION=false), requests alternating, the
emulator's first byte after 50 ms, a key with no RPM cap. What speculation hides: the admission round
trip. Wall-clock figures: run it on a quiet machine."""

from __future__ import annotations

import statistics
import sys
import time

import httpx
import orjson

from codegateway.settings import Settings
from codegateway.store import build_store
from tests.support.accounts import new_caller
from tests.support.stack import start_stack

BODY = orjson.dumps(
    {"model": "claude-sonnet-4-6", "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
)


def ttfb_ms(client: httpx.Client, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    first: float | None = None
    with client.stream("POST", url, content=BODY, headers=headers) as response:
        for _ in response.iter_raw():
            if first is None:
                first = time.perf_counter() - started
    assert response.status_code == 200 and first is not None
    return first * 1000


def main(requests: int) -> None:
    on = start_stack(extra_env={"CGW_SPECULATIVE_ADMISSION": "true"})
    off = start_stack(
        extra_env={"CGW_SPECULATIVE_ADMISSION": "false"}, args=["--dynamodb-endpoint", on.dynamodb_endpoint]
    )
    try:
        settings = Settings(dynamodb_endpoint=on.dynamodb_endpoint)
        caller = new_caller(build_store(settings), settings, rpm_limit=0, top_up_usd=100)
        headers = {"x-api-key": caller.api_key, "x-emulator-first-byte-delay-ms": "50"}
        sides = {"on": on.base_url + "/v1/messages", "off": off.base_url + "/v1/messages"}
        results: dict[str, list[float]] = {"on": [], "off": []}
        with httpx.Client(timeout=30) as client:
            for url in list(sides.values()) * 5:  # warm both (records, bcrypt, connections)
                ttfb_ms(client, url, headers)
            for i in range(requests):
                for name in ("on", "off") if i % 2 else ("off", "on"):
                    results[name].append(ttfb_ms(client, sides[name], headers))
        for name, values in results.items():
            values.sort()
            print(
                f"speculation {name}: TTFB p50 {statistics.median(values):.1f} ms, "
                f"p95 {values[int(len(values) * 0.95)]:.1f} ms (n={len(values)}, upstream first byte 50 ms)"
            )
    finally:
        off.stop()
        on.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 150)
