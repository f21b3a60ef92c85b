"""DynamoDB's JSON protocol over kept-alive HTTP connections: the client the tables use by default.

botocore's client spends 0.9-1.5 ms of CPU on every call (model-driven validation, serialisation and
parsing, urllib3's pool, its event hooks): on a proxied request that makes two calls, more than the
rest of the request path together (docs/profiles/README.md). DynamoDB's wire format is the very dicts
the tables already build (its low-level attribute values), so this client sends them as they are:
JSON out, JSON back, signed with botocore's own SigV4 signer and credential chain, about 0.2 ms a call.

It is a drop-in for what the tables use of botocore's client: the same method names and arguments,
the same answers, and the same `ClientError` (code, message, `CancellationReasons`, HTTP status) and
`BotoCoreError` transport failures, so `store.client.call` and every condition check work unchanged.
Like botocore's configuration (store/client.py), a call is tried at most twice: once more after a
transport failure, a 5xx, a throttle or a damaged answer (CRC32), always on a new connection. Every
write the ledger sends is safe to send twice (store/ledger.py).

Not supported, because nothing here uses them: binary attributes (B, BS), endpoint discovery, FIPS or
dual-stack endpoints (set CGW_DYNAMODB_ENDPOINT), HTTP(S) proxies. CGW_DYNAMODB_CLIENT=botocore
puts botocore's client back.
"""

from __future__ import annotations

import collections
import http.client
import os
import ssl
import threading
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
ATTEMPTS = 2  # botocore's standard mode as store/client.py configures it: total_max_attempts=2

# Answers worth one more try: botocore's standard retry mode treats these codes as throttles or
# transient (botocore/retries/standard.py); `store.client.call` adds its own backoff for throttles.
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)

Connection = http.client.HTTPConnection
# Frozen credentials per call: refreshable ones (an assumed role's) must not change mid-signature.
CredentialsSource = Callable[[], ReadOnlyCredentials | None]


def regional_endpoint(region: str) -> str:
    """DynamoDB's public endpoint of a region (China's regions have their own domain)."""
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://dynamodb.{region}.{domain}"


class _RetryableAnswer(Exception):
    """An answer that one more attempt may fix; carries what to raise if it was the last."""

    def __init__(self, final: Exception) -> None:
        super().__init__(str(final))
        self.final = final


class DynamoDBHttpClient:
    def __init__(
        self,
        endpoint_url: str,
        region: str,
        credentials: CredentialsSource,
        *,
        timeout_s: float,
        max_idle_connections: int = 64,
    ) -> None:
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint: {endpoint_url!r}")
        self.endpoint_url = endpoint_url.rstrip("/")
        self._url = self.endpoint_url + "/"
        self._tls = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)
        self._region = region
        self._credentials = credentials
        self._timeout_s = timeout_s
        self._max_idle = max_idle_connections
        # LIFO, so the connections kept are the recently used ones; deque's append/pop are atomic.
        self._idle: collections.deque[Connection] = collections.deque()
        self._tls_context: ssl.SSLContext | None = None
        self._tls_lock = threading.Lock()

    # The operations the tables and the local stack use, as botocore's client names them.
    def get_item(self, **params: Any) -> dict[str, Any]:
        return self.request("GetItem", params)

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self.request("PutItem", params)

    def update_item(self, **params: Any) -> dict[str, Any]:
        return self.request("UpdateItem", params)

    def delete_item(self, **params: Any) -> dict[str, Any]:
        return self.request("DeleteItem", params)

    def query(self, **params: Any) -> dict[str, Any]:
        return self.request("Query", params)

    def scan(self, **params: Any) -> dict[str, Any]:
        return self.request("Scan", params)

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        return self.request("TransactWriteItems", params)

    def list_tables(self, **params: Any) -> dict[str, Any]:
        return self.request("ListTables", params)

    def create_table(self, **params: Any) -> dict[str, Any]:
        return self.request("CreateTable", params)

    def update_time_to_live(self, **params: Any) -> dict[str, Any]:
        return self.request("UpdateTimeToLive", params)

    def request(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """One operation, tried at most ATTEMPTS times; DynamoDB's answer as a dict, or ClientError."""
        body = orjson.dumps(params)
        for attempt in range(ATTEMPTS):
            try:
                answer = self._send(operation, body, fresh=attempt > 0)
            except _RetryableAnswer as retryable:
                if attempt == ATTEMPTS - 1:
                    raise retryable.final from retryable.__cause__
                continue
            answer.setdefault("ResponseMetadata", {})["RetryAttempts"] = attempt
            return answer
        raise AssertionError("unreachable: the last attempt returns or raises")

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def _send(self, operation: str, body: bytes, *, fresh: bool) -> dict[str, Any]:
        headers = self._signed_headers(operation, body)
        connection = self._new_connection() if fresh or not self._idle else self._take_idle()
        try:
            connection.request("POST", "/", body, headers)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError as error:
            connection.close()
            raise _RetryableAnswer(ReadTimeoutError(endpoint_url=self.endpoint_url, error=error)) from error
        except ConnectionRefusedError as error:
            connection.close()
            raise _RetryableAnswer(EndpointConnectionError(endpoint_url=self.endpoint_url, error=error)) from error
        except (OSError, http.client.HTTPException) as error:
            # Closed or reset before a whole answer came back: the write may or may not have applied.
            connection.close()
            raise _RetryableAnswer(ConnectionClosedError(endpoint_url=self.endpoint_url)) from error
        if response.will_close:
            connection.close()
        else:
            self._keep(connection)
        return self._answer(operation, response, data)

    def _answer(self, operation: str, response: http.client.HTTPResponse, data: bytes) -> dict[str, Any]:
        status = response.status
        metadata = {"HTTPStatusCode": status, "RequestId": response.getheader("x-amzn-requestid", "")}
        expected_crc = response.getheader("x-amz-crc32")
        if expected_crc is not None and int(expected_crc) != zlib.crc32(data):
            raise _RetryableAnswer(ConnectionClosedError(endpoint_url=self.endpoint_url))
        try:
            parsed: dict[str, Any] = orjson.loads(data) if data else {}
        except orjson.JSONDecodeError:
            parsed = {}
        if status < 300:
            parsed["ResponseMetadata"] = metadata
            return parsed
        code = str(parsed.pop("__type", "")).rpartition("#")[2] or str(status)
        message = parsed.pop("message", None) or parsed.pop("Message", None) or http.client.responses.get(status, "")
        # As botocore does: the error's modelled members (CancellationReasons, Item) beside Error.
        error = ClientError(
            {**parsed, "Error": {"Code": code, "Message": message}, "ResponseMetadata": metadata}, operation
        )
        if status >= 500 or code in RETRYABLE_CODES:
            raise _RetryableAnswer(error)
        raise error

    def _signed_headers(self, operation: str, body: bytes) -> dict[str, str]:
        credentials = self._credentials()
        if credentials is None:
            raise NoCredentialsError()
        request = AWSRequest(
            method="POST",
            url=self._url,
            data=body,
            headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + operation},
        )
        SigV4Auth(credentials, "dynamodb", self._region).add_auth(request)
        return dict(request.headers.items())

    def _take_idle(self) -> Connection:
        try:
            return self._idle.pop()
        except IndexError:  # another thread took the last one
            return self._new_connection()

    def _keep(self, connection: Connection) -> None:
        if len(self._idle) < self._max_idle:
            self._idle.append(connection)
        else:
            connection.close()

    def _new_connection(self) -> Connection:
        if not self._tls:
            return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout_s)
        return http.client.HTTPSConnection(
            self._host, self._port, timeout=self._timeout_s, context=self._tls_settings()
        )

    def _tls_settings(self) -> ssl.SSLContext:
        # Built on first use: loading the CA bundle is tens of milliseconds a cold start need not pay.
        with self._tls_lock:
            if self._tls_context is None:
                self._tls_context = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or None)
            return self._tls_context
