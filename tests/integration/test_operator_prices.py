"""Operators change prices without a redeploy: `cgw prices import` against a running local stack (its
own, so no other test sees the changed prices), the proxy bills the new rates within its refresh
interval, usage records note the catalog version, and `cgw prices check` finds the upstream's new ids."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from codegateway.cli import app
from codegateway.cli.context import EXIT_BAD_INPUT, EXIT_CONFLICT, EXIT_FAILED
from codegateway.settings import Settings
from codegateway.store import build_store
from tests.support.accounts import new_caller
from tests.support.cli import Cgw
from tests.support.requests import message_body
from tests.support.stack import RunningStack, start_stack

BUNDLED = json.loads(resources.files("codegateway.domain").joinpath("pricing_catalog.json").read_text())


@pytest.fixture(scope="module")
def priced_stack() -> Iterator[RunningStack]:
    running = start_stack(extra_env={"CGW_PRICING_CATALOG_REFRESH_S": "1"})
    yield running
    running.stop()


def _catalog_file(tmp_path: Path, version: str, sonnet_4_6_input_usd: str) -> Path:
    catalog = json.loads(json.dumps(BUNDLED))
    catalog["version"] = version
    catalog["price_groups"]["sonnet-4-6-operator"] = {
        **catalog["price_groups"]["sonnet-4"],
        "input": sonnet_4_6_input_usd,
    }
    for model in catalog["models"]:
        if model["id"] == "claude-sonnet-4-6":
            model["prices"] = "sonnet-4-6-operator"
    path = tmp_path / f"catalog-{version}.json"
    path.write_text(json.dumps(catalog))
    return path


def _cost_of_one_request(stack: RunningStack, api_key: str) -> tuple[str, str | None]:
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=message_body("claude-sonnet-4-6"),
        headers={"x-api-key": api_key, "x-emulator-usage": "input=1000000,output=0"},
        timeout=30,
    )
    assert response.status_code == 200
    rows = httpx.get(f"{stack.base_url}/v1/account/usage", headers={"x-api-key": api_key}).json()["data"]
    row = next(row for row in rows if row["request_id"] == response.headers["request-id"])
    return row["cost_usd"], row.get("catalog_version")


def test_an_imported_catalog_is_billed_within_the_refresh_interval_and_noted_on_each_record(
    priced_stack: RunningStack, tmp_path: Path
) -> None:
    cgw = Cgw(priced_stack.dynamodb_endpoint)
    settings = Settings(dynamodb_endpoint=priced_stack.dynamodb_endpoint)
    # Each request below costs $4.50-6.00 and the loop sends one every 0.5 s until the new price shows:
    # enough credit that a slow machine's extra turn at the old price is not refused 402.
    caller = new_caller(build_store(settings), settings, top_up_usd=100)
    # Bundled: 1,000,000 input x $3/MTok = $3, x 1.5 = $4.50.
    assert _cost_of_one_request(priced_stack, caller.api_key) == ("4.50", BUNDLED["version"])
    assert cgw.json("prices", "show")["source"] == "bundled"

    cgw.ok("prices", "import", str(_catalog_file(tmp_path, "2026-12-02-operator", "4")))
    shown = cgw.json("prices", "show")
    assert (shown["version"], shown["source"]) == ("2026-12-02-operator", "imported")
    assert next(row for row in shown["models"] if row["id"] == "claude-sonnet-4-6")["input"] == "4"
    # The proxy re-reads it within CGW_PRICING_CATALOG_REFRESH_S (1 s here): $4/MTok, x 1.5 = $6.
    deadline = time.monotonic() + 15
    while (cost := _cost_of_one_request(priced_stack, caller.api_key)) != ("6.00", "2026-12-02-operator"):
        assert time.monotonic() < deadline, f"still billed {cost}"
        time.sleep(0.5)


def test_an_import_is_validated_and_versions_are_never_reused(priced_stack: RunningStack, tmp_path: Path) -> None:
    cgw = Cgw(priced_stack.dynamodb_endpoint)
    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps({**BUNDLED, "version": "broken", "models": [{**BUNDLED["models"][0], "prices": "nope"}]})
    )
    assert "nope" in cgw.fails(EXIT_BAD_INPUT, "prices", "import", str(broken))
    unversioned = tmp_path / "unversioned.json"
    unversioned.write_text(json.dumps({**BUNDLED, "version": ""}))
    assert "version" in cgw.fails(EXIT_BAD_INPUT, "prices", "import", str(unversioned))
    cgw.ok("prices", "import", str(_catalog_file(tmp_path, "2026-12-03-once", "3")))
    assert "already in force" in cgw.fails(
        EXIT_CONFLICT, "prices", "import", str(_catalog_file(tmp_path, "2026-12-03-once", "5"))
    )


class _UpstreamModels(BaseHTTPRequestHandler):
    """A stand-in for the upstream's GET /v1/models on release day, two pages long."""

    def do_GET(self) -> None:
        if "after_id" in self.path:
            page = {"data": [{"id": "claude-opus-6"}, {"id": "gpt-5"}], "has_more": False, "last_id": "gpt-5"}
        else:
            page = {
                "data": [{"id": "claude-opus-5-5"}, {"id": "claude-sonnet-5-5"}],
                "has_more": True,
                "last_id": "claude-sonnet-5-5",
            }
        body = json.dumps(page).encode()
        self.send_response(200 if self.headers.get("x-api-key") == "sk-ant-test" else 401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_prices_check_lists_the_upstreams_models_the_catalog_cannot_price(priced_stack: RunningStack) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _UpstreamModels)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = CliRunner().invoke(
            app,
            ["prices", "check", "--upstream-url", f"http://127.0.0.1:{server.server_port}", "--format", "json"],
            env={"CGW_DYNAMODB_ENDPOINT": priced_stack.dynamodb_endpoint, "CGW_UPSTREAM_API_KEY": "sk-ant-test"},
        )
    finally:
        server.shutdown()
    assert result.exit_code == EXIT_FAILED, result.output
    checked = json.loads(result.stdout)
    assert (checked["unpriced"], checked["priced_by_family"]) == (["gpt-5"], ["claude-opus-6"])
