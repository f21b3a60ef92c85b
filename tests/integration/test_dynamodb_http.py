"""The tables' DynamoDB client (store/dynamodb_http.py) against a scripted DynamoDB on loopback: what it
sends is signed as SigV4 requires over the bytes and Host that arrive, connections are kept alive and
never reused once the server closed them, transactions carry one idempotency token across attempts, and
failures surface as botocore's do, so the store's fail-closed and retry rules hold. The store tests run
the same client against the local stack's DynamoDB (moto), which checks item conditions, transactions and
cancellation reasons, but not signatures, tokens or idle connections: those are checked here."""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import orjson
import pytest
import uvloop
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import ClientError

from codegateway.errors import StoreThrottled, StoreUnavailable
from codegateway.settings import Settings
from codegateway.store import build_store
from codegateway.store.client import ThrottleRetry, call, call_retrying_throttles
from codegateway.store.dynamodb_http import DynamoDBHttpClient, regional_endpoint
from codegateway.store.dynamodb_loop import DynamoDBLoopClient
from tests.support.faults import private_ca

CREDENTIALS = ReadOnlyCredentials("AKIDLOCALTEST", "not-a-real-secret", "session-token-value")
GET = {"TableName": "codegateway-api-keys", "Key": {"key_id": {"S": "0123456789abcdef"}}}
REGION = "eu-west-1"


@dataclass
class Seen:
    target: str
    headers: dict[str, str]
    body: bytes
    connection: int


# What the scripted server answers: (status, JSON body or raw bytes, extra headers), or "reset" to
# close the connection without answering, or "hang" to answer nothing for a while.
Answer = tuple[int, Any, dict[str, str]] | str


@dataclass
class ScriptedDynamoDB:
    answers: list[Answer] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    close_after_each: bool = False
    closed_on_accept: int = 0  # this many connections, the first ones, are closed as soon as they open
    # Raw bytes written in the same write as each answer's body (a second answer nobody asked for).
    trailing: bytes = b""
    # Close the connection right after answering, with no `Connection: close` (as DynamoDB drops an idle one).
    drop_after_answer: bool = False
    drop_delay_s: float = 0.0  # how long after the answer it drops it

    def answer(self) -> Answer:
        return self.answers.pop(0) if self.answers else (200, {"Item": {"key_id": {"S": "x"}}}, {})


def _handler(script: ScriptedDynamoDB) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            script.connections += 1
            self.connection_number = script.connections

        def handle(self) -> None:
            if self.connection_number <= script.closed_on_accept:
                return  # closed without reading a byte
            super().handle()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            script.seen.append(
                Seen(self.headers.get("X-Amz-Target", ""), dict(self.headers.items()), body, self.connection_number)
            )
            answer = script.answer()
            if answer == "reset":
                self.close_connection = True
                return
            if answer == "hang":
                time.sleep(1.0)
                self.close_connection = True
                return
            assert not isinstance(answer, str)
            status, payload, extra = answer
            data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amz-crc32", extra.pop("x-amz-crc32", str(zlib.crc32(data))))
            for name, value in extra.items():
                self.send_header(name, value)
            if script.close_after_each:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data + script.trailing)
            if script.drop_after_answer:
                self.wfile.flush()
                time.sleep(script.drop_delay_s)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def dynamodb() -> Iterator[tuple[ScriptedDynamoDB, str]]:
    script = ScriptedDynamoDB()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield script, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class OnTheLoop:
    """The loop client (store/dynamodb_loop.py) behind the blocking client's method names, on one event
    loop kept for the test, so its kept-alive connections carry over from call to call."""

    def __init__(self, blocking: DynamoDBHttpClient, runner: asyncio.Runner) -> None:
        self._client = DynamoDBLoopClient(blocking)
        self._runner = runner

    def get_item(self, **params: Any) -> dict[str, Any]:
        return self._runner.run(self._client.call("get_item", params))

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        return self._runner.run(self._client.call("transact_write_items", params))


Client = DynamoDBHttpClient | OnTheLoop
ClientOf = Callable[..., Client]


@pytest.fixture(params=["blocking", "on asyncio's loop", "on uvloop"])
def client_of(request: pytest.FixtureRequest) -> Iterator[ClientOf]:
    """Builds the client under test for a URL: each test runs with both, held to the same wire, the
    loop client on asyncio's own loop and on uvloop's (what the proxy runs on: their transports differ)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop if request.param == "on uvloop" else None) as runner:

        def build(url: str, timeout_s: float = 2.0, credentials: Callable[[], Any] = lambda: CREDENTIALS) -> Client:
            blocking = DynamoDBHttpClient(url, REGION, credentials, timeout_s=timeout_s)
            return blocking if request.param == "blocking" else OnTheLoop(blocking, runner)

        yield build


def _signature_of(seen: Seen, scheme: str = "http") -> str:
    """The signature botocore's signer gives the request as it arrived: its Host, headers and bytes."""
    names = {"content-type", "x-amz-target", "x-amz-date", "x-amz-security-token"}
    arrived = {name: value for name, value in seen.headers.items() if name.lower() in names}
    request = AWSRequest(method="POST", url=f"{scheme}://{seen.headers['Host']}/", data=seen.body, headers=arrived)
    signed_at = datetime.strptime(seen.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    with patch("botocore.auth.get_current_datetime", return_value=signed_at):
        SigV4Auth(CREDENTIALS, "dynamodb", REGION).add_auth(request)
    return str(request.headers["Authorization"])


def test_what_goes_over_the_wire_is_dynamodbs_json_protocol_signed_over_those_very_bytes(
    dynamodb: tuple[ScriptedDynamoDB, str],
    client_of: ClientOf,
) -> None:
    script, url = dynamodb
    answer = client_of(url).get_item(**GET)

    assert answer["Item"] == {"key_id": {"S": "x"}}
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    (seen,) = script.seen
    assert seen.target == "DynamoDB_20120810.GetItem"
    assert seen.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert orjson.loads(seen.body) == GET
    assert seen.headers["X-Amz-Security-Token"] == "session-token-value"
    assert seen.headers["Host"] == url.removeprefix("http://")
    authorization = seen.headers["Authorization"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST/{seen.headers['X-Amz-Date'][:8]}/")
    assert f"/{REGION}/dynamodb/aws4_request" in authorization
    # DynamoDB recomputes the signature from what it received; so does this check.
    assert authorization == _signature_of(seen)


def test_calls_share_one_kept_alive_connection(dynamodb: tuple[ScriptedDynamoDB, str], client_of: ClientOf) -> None:
    script, url = dynamodb
    client = client_of(url)
    for _ in range(5):
        client.get_item(**GET)
    assert [seen.connection for seen in script.seen] == [1] * 5
    assert script.connections == 1


def test_a_server_that_closes_each_connection_gets_a_new_one_each_call(
    dynamodb: tuple[ScriptedDynamoDB, str], client_of: ClientOf
) -> None:
    script, url = dynamodb
    script.close_after_each = True
    client = client_of(url)
    for _ in range(3):
        client.get_item(**GET)
    assert [seen.connection for seen in script.seen] == [1, 2, 3]


def test_a_connection_closed_before_the_answer_is_tried_again_on_a_new_one(
    dynamodb: tuple[ScriptedDynamoDB, str],
    client_of: ClientOf,
) -> None:
    script, url = dynamodb
    client = client_of(url)
    client.get_item(**GET)
    script.answers = ["reset"]
    answer = client.get_item(**GET)
    assert answer["Item"] == {"key_id": {"S": "x"}}
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert [seen.connection for seen in script.seen] == [1, 1, 2]


def test_a_connection_closed_as_soon_as_it_opened_is_tried_again_on_a_new_one(
    dynamodb: tuple[ScriptedDynamoDB, str], client_of: ClientOf
) -> None:
    script, url = dynamodb
    script.closed_on_accept = 1
    original_connect = DynamoDBLoopClient._connect

    async def connect_then_busy(self: DynamoDBLoopClient, timeout_s: float) -> Any:
        connection = await original_connect(self, timeout_s)
        await asyncio.sleep(0.05)  # the loop busy elsewhere: it reads the server's close before the write
        return connection

    started = time.monotonic()
    with patch.object(DynamoDBLoopClient, "_connect", connect_then_busy):
        answer = client_of(url).get_item(**GET)
    assert time.monotonic() - started < 1.0  # retried at once, not after the 2 s timeout
    assert answer["Item"] == {"key_id": {"S": "x"}}
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert script.connections == 2 and [seen.connection for seen in script.seen] == [2]


def test_a_second_answer_nobody_asked_for_is_never_read_as_the_next_calls(
    dynamodb: tuple[ScriptedDynamoDB, str], client_of: ClientOf
) -> None:
    script, url = dynamodb
    injected = b'{"Item":{"key_id":{"S":"injected"}}}'
    script.trailing = (
        b"HTTP/1.1 200 OK\r\nx-amzn-RequestId: INJECTED\r\nx-amz-crc32: %d\r\nContent-Length: %d\r\n\r\n%b"
        % (zlib.crc32(injected), len(injected), injected)
    )
    script.answers = [(200, {"Item": {"key_id": {"S": "x"}}}, {"x-amzn-RequestId": "REAL"})]
    client = client_of(url)
    answer = client.get_item(**GET)
    assert answer["ResponseMetadata"]["RequestId"] == "REAL" and answer["Item"] == {"key_id": {"S": "x"}}
    script.trailing = b""
    assert client.get_item(**GET)["Item"] == {"key_id": {"S": "x"}}  # its own answer, not the injected one


def test_a_burst_of_calls_on_the_loop_opens_at_most_its_connection_cap(
    dynamodb: tuple[ScriptedDynamoDB, str],
) -> None:
    script, url = dynamodb
    client = DynamoDBLoopClient(DynamoDBHttpClient(url, REGION, lambda: CREDENTIALS, timeout_s=2.0), max_connections=4)

    async def burst() -> list[dict[str, Any]]:
        return await asyncio.gather(*(client.call("get_item", GET) for _ in range(40)))

    answers = asyncio.run(burst())
    assert len(answers) == 40 and all(answer["Item"] == {"key_id": {"S": "x"}} for answer in answers)
    assert script.connections <= 4


def test_a_transaction_still_in_progress_is_unavailable_not_an_answer(
    dynamodb: tuple[ScriptedDynamoDB, str], client_of: ClientOf
) -> None:
    """The first attempt timed out while DynamoDB applied it and the retry found it in progress: it may
    yet land, so the caller must hear a store failure (and undo), not a refusal."""
    script, url = dynamodb
    in_progress = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionInProgressException",
        "Message": "Transaction is ongoing for the idempotency token",
    }
    script.answers = ["hang", (400, in_progress, {})]
    with pytest.raises(StoreUnavailable):
        call(client_of(url, timeout_s=0.2).transact_write_items, TransactItems=[])
    assert len(script.seen) == 2


def test_a_connection_the_server_dropped_after_its_answer_is_not_reused_and_costs_no_retry(
    dynamodb: tuple[ScriptedDynamoDB, str], client_of: ClientOf
) -> None:
    script, url = dynamodb
    # As DynamoDB drops an idle connection: without `Connection: close`, after the answer was read.
    script.drop_after_answer, script.drop_delay_s = True, 0.05
    client = client_of(url)
    client.get_item(**GET)
    time.sleep(0.2)  # the close arrives between two requests, while nothing reads the connection
    answer = client.get_item(**GET)
    assert answer["ResponseMetadata"]["RetryAttempts"] == 0
    assert [seen.connection for seen in script.seen] == [1, 2]


def test_a_retried_transaction_carries_the_same_idempotency_token_on_both_attempts(
    dynamodb: tuple[ScriptedDynamoDB, str], client_of: ClientOf
) -> None:
    script, url = dynamodb
    script.answers = ["reset", (200, {}, {})]
    client_of(url).transact_write_items(TransactItems=[])
    first, second = (orjson.loads(seen.body)["ClientRequestToken"] for seen in script.seen)
    assert first and first == second  # DynamoDB answers the second as the first: applied once
    client_of(url).transact_write_items(TransactItems=[])
    assert orjson.loads(script.seen[-1].body)["ClientRequestToken"] != first  # a new call, a new token


def test_the_loop_client_works_from_one_event_loop_after_another(dynamodb: tuple[ScriptedDynamoDB, str]) -> None:
    script, url = dynamodb
    client = DynamoDBLoopClient(DynamoDBHttpClient(url, REGION, lambda: CREDENTIALS, timeout_s=2.0))
    for _ in range(2):  # each asyncio.run is a new loop, as each test's is; the old loop's pool is not used
        answer = asyncio.run(client.call("get_item", GET))
        assert answer["Item"] == {"key_id": {"S": "x"}}
    assert [seen.connection for seen in script.seen] == [1, 2]


def test_a_store_that_keeps_failing_is_unavailable_after_two_attempts(
    dynamodb: tuple[ScriptedDynamoDB, str], client_of: ClientOf
) -> None:
    script, url = dynamodb
    client = client_of(url)
    script.answers = ["reset", "reset", "reset"]
    with pytest.raises(StoreUnavailable):
        call(client.get_item, **GET)
    assert len(script.seen) == 2

    script.answers = [
        (500, {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "boom"}, {})
    ] * 3
    script.seen.clear()
    with pytest.raises(StoreUnavailable):
        call(client.get_item, **GET)
    assert len(script.seen) == 2


def test_nothing_listening_is_unavailable(client_of: ClientOf) -> None:
    client = client_of("http://127.0.0.1:9", timeout_s=0.5)
    with pytest.raises(StoreUnavailable):
        call(client.get_item, **GET)


def test_an_answer_that_never_comes_is_unavailable_within_two_timeouts(
    dynamodb: tuple[ScriptedDynamoDB, str], client_of: ClientOf
) -> None:
    script, url = dynamodb
    script.answers = ["hang", "hang"]
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        call(client_of(url, timeout_s=0.2).get_item, **GET)
    assert len(script.seen) == 2
    assert time.monotonic() - started < 0.9  # two 0.2 s timeouts, not the server's 1 s hang each


def test_a_damaged_answer_is_never_used(dynamodb: tuple[ScriptedDynamoDB, str], client_of: ClientOf) -> None:
    script, url = dynamodb
    wrong = {"x-amz-crc32": "12345"}
    script.answers = [(200, {"Item": {"key_id": {"S": "damaged"}}}, dict(wrong))]
    assert client_of(url).get_item(**GET)["Item"] == {"key_id": {"S": "x"}}
    assert [seen.connection for seen in script.seen] == [1, 2]  # nor is the connection that brought it
    script.answers = [(200, {"Item": {}}, dict(wrong)), (200, {"Item": {}}, {"x-amz-crc32": "not-a-number"})]
    with pytest.raises(StoreUnavailable):
        call(client_of(url).get_item, **GET)
    # A 200 that is not DynamoDB's JSON (a proxy's page) is no answer, not "no such item".
    script.answers = [(200, b"<html>gateway</html>", {})]
    with pytest.raises(StoreUnavailable):
        call(client_of(url).get_item, **GET)


def test_a_failed_condition_is_botocores_client_error_with_its_cancellation_reasons(
    dynamodb: tuple[ScriptedDynamoDB, str],
    client_of: ClientOf,
) -> None:
    script, url = dynamodb
    reasons = [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}]
    script.answers = [
        (
            400,
            {
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
                "CancellationReasons": reasons,
            },
            {"x-amzn-RequestId": "REQ123"},
        )
    ]
    with pytest.raises(ClientError) as caught:
        client_of(url).transact_write_items(TransactItems=[], ClientRequestToken="t")
    error = caught.value
    assert error.response["Error"]["Code"] == "TransactionCanceledException"
    assert error.response["CancellationReasons"] == reasons
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["ResponseMetadata"]["RequestId"] == "REQ123"
    assert error.operation_name == "TransactWriteItems"
    assert len(script.seen) == 1  # a real answer: not tried again


def test_a_throttle_is_retried_with_the_stores_backoff_then_becomes_its_503(
    dynamodb: tuple[ScriptedDynamoDB, str],
    client_of: ClientOf,
) -> None:
    script, url = dynamodb
    throttled: Answer = (
        400,
        {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "message": "slow down"},
        {},
    )
    sleeps: list[float] = []
    retry = ThrottleRetry(attempts=3, sleep=sleeps.append, jitter=lambda low, high: high)
    script.answers = [throttled]
    assert call_retrying_throttles(client_of(url).get_item, GET, retry)["Item"] == {"key_id": {"S": "x"}}
    assert (len(script.seen), sleeps) == (2, [0.05])

    script.answers = [throttled] * 10
    script.seen.clear()
    sleeps.clear()
    with pytest.raises(StoreThrottled):
        call_retrying_throttles(client_of(url).get_item, GET, retry)
    assert len(script.seen) == 3  # the store's 3 attempts, none doubled at once by the client
    assert sleeps == [0.05, 0.1]


def test_no_credentials_is_unavailable_not_an_unsigned_request(
    dynamodb: tuple[ScriptedDynamoDB, str], client_of: ClientOf
) -> None:
    script, url = dynamodb
    with pytest.raises(StoreUnavailable):
        call(client_of(url, credentials=lambda: None).get_item, **GET)
    assert script.seen == []


def test_over_https_it_trusts_aws_ca_bundle_and_refuses_an_unknown_ca(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_of: ClientOf
) -> None:
    script = ScriptedDynamoDB()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    ca = private_ca(tmp_path)
    server.socket = ca.server_context().wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(StoreUnavailable):
            call(client_of(url).get_item, **GET)
        assert script.seen == []  # nothing sent to a server whose certificate nobody vouched for
        monkeypatch.setenv("AWS_CA_BUNDLE", str(ca.ca_pem))
        client = client_of(url)
        assert client.get_item(**GET)["Item"] == {"key_id": {"S": "x"}}
        client.get_item(**GET)
        (first, second) = script.seen
        assert first.connection == second.connection
        assert first.headers["Authorization"] == _signature_of(first, "https")
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("variable", "region"),
    [
        ("AWS_USE_FIPS_ENDPOINT", "us-east-1"),
        ("AWS_ENDPOINT_URL", "us-east-1"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "us-east-1"),
        ("AWS_USE_DUALSTACK_ENDPOINT", "us-east-1"),
        (None, "us-iso-east-1"),
        (None, "eusc-de-east-1"),
    ],
)
def test_an_endpoint_the_aws_environment_chooses_gets_botocores_client(
    variable: str | None, region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if variable is not None:
        monkeypatch.setenv(variable, "http://localhost:4566" if variable.startswith("AWS_ENDPOINT") else "true")
    client = build_store(Settings(aws_region=region)).client
    assert not isinstance(client, DynamoDBHttpClient)


def test_the_tables_get_this_client_unless_botocores_is_asked_for() -> None:
    local = Settings(dynamodb_endpoint="http://127.0.0.1:8000")
    assert isinstance(build_store(local).client, DynamoDBHttpClient)
    aws = build_store(Settings(aws_region="ap-southeast-2")).client
    assert isinstance(aws, DynamoDBHttpClient)
    assert aws.endpoint_url == "https://dynamodb.ap-southeast-2.amazonaws.com"
    assert regional_endpoint("cn-north-1") == "https://dynamodb.cn-north-1.amazonaws.com.cn"
    botocore_client = build_store(local.model_copy(update={"dynamodb_client": "botocore"})).client
    assert not isinstance(botocore_client, DynamoDBHttpClient)
    assert botocore_client.meta.endpoint_url == "http://127.0.0.1:8000"
