"""DynamoDB's JSON protocol over kept-alive HTTP connections: the client the tables use by default.

botocore's client spends 0.9-1.5 ms of CPU on every call (model-driven validation, serialisation and
parsing, urllib3's pool, its event hooks): on a proxied request that makes two calls, more than the
rest of the request path together (docs/profiles/README.md). DynamoDB's wire format is the very dicts
the tables already build (its low-level attribute values), so this client sends them as they are:
JSON out, JSON back, signed by store/sigv4.py with botocore's credential chain, about 0.2 ms a call.

It is a drop-in for what the tables use of botocore's client: the same method names and arguments,
the same answers, and the same `ClientError` (code, message, `CancellationReasons`, HTTP status) and
`BotoCoreError` transport failures, so `store.client.call` and every condition check work unchanged.
As botocore's standard mode does with the configuration store/client.py gives it, a call is tried at
most twice: once more after a transport failure (on a new connection), a 500/502/503/504 or a 429 (after
up to 25 ms), or a damaged answer (CRC32). Throttles are retried, with backoff, by `store.client.call`.
A TransactWriteItems carries a ClientRequestToken, the same on both attempts, as botocore adds one: a
retried transaction whose first attempt committed is answered as a success, not run again. A kept-alive
connection is not reused once idle IDLE_MAX_S or closed by the server (as urllib3 checks), so a
connection DynamoDB dropped between invocations does not use up the retry. TLS trusts what botocore
trusts (certifi's bundle, or AWS_CA_BUNDLE).

Not supported, because nothing here uses them: binary attributes (B, BS), endpoint discovery, FIPS,
dual-stack or custom endpoints from the AWS environment, HTTP(S) proxies; `build_dynamodb_client` hands
those environments botocore's client. CGW_DYNAMODB_CLIENT=botocore does so everywhere.
"""

from __future__ import annotations

import collections
import http.client
import os
import random
import select
import socket
import ssl
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.httpsession import get_cert_path

from codegateway.store.sigv4 import DynamoDBSigner

TARGET_PREFIX = "DynamoDB_20120810."
ATTEMPTS = 2  # botocore's standard mode as store/client.py configures it: total_max_attempts=2
# Before the second attempt after a transient answer: botocore's base delay for DynamoDB.
RETRY_PAUSE_MAX_S = 0.025
# A kept-alive connection idle longer than this is closed, not reused (DynamoDB drops idle ones).
IDLE_MAX_S = 30.0

# Answers worth one more try besides 500/502/503/504/429: transient by botocore's standard retry mode
# (botocore/retries/standard.py) or marked retryable in DynamoDB's model. Throttles are not here:
# `store.client.call` retries those, with backoff.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRYABLE_CODES = frozenset(
    {
        "TransactionInProgressException",
        "ReplicatedWriteConflictException",
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


class RetryableAnswer(Exception):
    """An answer that one more attempt may fix; carries what to raise if it was the last."""

    def __init__(self, final: Exception, transport: bool) -> None:
        super().__init__(str(final))
        self.final = final
        self.transport = transport  # the connection failed: the next attempt takes a new one


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
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
            raise ValueError(f"not an http(s) endpoint without a path: {endpoint_url!r}")
        self.endpoint_url = endpoint_url.rstrip("/")
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        self._region = region
        # The Host header as http.client would send it, and as SigV4 signs it: no default port.
        default_port = parts.port is None or parts.port == (443 if self.tls else 80)
        self._signer = DynamoDBSigner(region, self.host if default_port else f"{self.host}:{self.port}")
        self._credentials = credentials
        self.timeout_s = timeout_s
        self._max_idle = max_idle_connections
        # LIFO, so the connections kept are the recently used ones; deque's append/pop are atomic.
        # Each with when it was last used (time.monotonic()).
        self._idle: collections.deque[tuple[Connection, float]] = collections.deque()
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
        # Serialised once below, so both attempts carry the same token (botocore adds one as well).
        params.setdefault("ClientRequestToken", str(uuid.uuid4()))
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
        fresh = False
        for attempt in range(ATTEMPTS):
            try:
                answer = self._send(operation, body, fresh=fresh)
            except RetryableAnswer as retryable:
                if attempt == ATTEMPTS - 1:
                    raise retryable.final from retryable.__cause__
                fresh = retryable.transport
                if not fresh:
                    time.sleep(random.uniform(0.0, RETRY_PAUSE_MAX_S))
                continue
            answer.setdefault("ResponseMetadata", {})["RetryAttempts"] = attempt
            return answer
        raise AssertionError("unreachable: the last attempt returns or raises")

    def close(self) -> None:
        while True:
            try:
                connection, _ = self._idle.pop()
            except IndexError:
                return
            connection.close()

    def _send(self, operation: str, body: bytes, *, fresh: bool) -> dict[str, Any]:
        headers = self.signed_headers(operation, body)
        connection = self._new_connection() if fresh else self._take_idle()
        try:
            connection.request("POST", "/", body, headers)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError as error:
            connection.close()
            raise RetryableAnswer(ReadTimeoutError(endpoint_url=self.endpoint_url, error=error), True) from error
        except ConnectionRefusedError as error:
            connection.close()
            raise RetryableAnswer(EndpointConnectionError(endpoint_url=self.endpoint_url, error=error), True) from error
        except (OSError, http.client.HTTPException) as error:
            # Closed or reset before a whole answer came back: the write may or may not have applied.
            connection.close()
            raise RetryableAnswer(ConnectionClosedError(endpoint_url=self.endpoint_url), True) from error
        except BaseException:
            connection.close()
            raise
        if not intact(response.getheader("x-amz-crc32"), data):
            # Never used, and neither is the connection that brought it.
            connection.close()
            raise RetryableAnswer(ConnectionClosedError(endpoint_url=self.endpoint_url), True)
        if response.will_close:
            connection.close()
        else:
            self._keep(connection)
        return read_answer(
            operation, response.status, response.getheader("x-amzn-requestid", ""), data, self.endpoint_url
        )

    def signed_headers(self, operation: str, body: bytes) -> dict[str, str]:
        """The headers of one call with this body, signed with the credentials of the moment."""
        credentials = self._credentials()
        if credentials is None:
            raise NoCredentialsError()
        return self._signer.headers(
            TARGET_PREFIX + operation, body, credentials.access_key, credentials.secret_key, credentials.token
        )

    def _take_idle(self) -> Connection:
        """The most recently used kept-alive connection that is still open, else a new one."""
        while True:
            try:
                connection, used_at = self._idle.pop()
            except IndexError:  # none left (another thread may have taken the last one)
                return self._new_connection()
            if time.monotonic() - used_at < IDLE_MAX_S and not _closed_by_server(connection):
                return connection
            connection.close()

    def _keep(self, connection: Connection) -> None:
        if len(self._idle) < self._max_idle:
            self._idle.append((connection, time.monotonic()))
        else:
            connection.close()

    def _new_connection(self) -> Connection:
        if not self.tls:
            return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout_s, context=self.tls_settings())

    def tls_settings(self) -> ssl.SSLContext:
        # Built on first use: loading the CA bundle is tens of milliseconds a cold start need not pay.
        with self._tls_lock:
            if self._tls_context is None:
                context = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or get_cert_path(True))
                # Python 3.13 turns on strict X.509 checks; urllib3 (botocore) does not: accept what it accepts.
                context.verify_flags &= ~ssl.VERIFY_X509_STRICT
                self._tls_context = context
            return self._tls_context


def read_answer(operation: str, status: int, request_id: str, data: bytes, endpoint_url: str) -> dict[str, Any]:
    """DynamoDB's answer as botocore's client gives it: the parsed body with ResponseMetadata, or its
    ClientError; RetryableAnswer when one more attempt may fix it."""
    metadata = {"HTTPStatusCode": status, "RequestId": request_id}
    try:
        parsed = orjson.loads(data) if data else {}
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        if status < 300:
            # Not an answer DynamoDB gives (a proxy's page, say): never read as "no such item".
            raise ConnectionClosedError(endpoint_url=endpoint_url)
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
    if status in RETRYABLE_STATUSES or code in RETRYABLE_CODES:
        raise RetryableAnswer(error, False)
    raise error


def intact(expected: str | None, data: bytes) -> bool:
    """The body matches DynamoDB's CRC32 of it (the x-amz-crc32 header; none: nothing to check, as
    botocore does)."""
    if expected is None:
        return True
    return expected.isdigit() and int(expected) == zlib.crc32(data)


def _closed_by_server(connection: Connection) -> bool:
    sock = connection.sock
    return sock is None or readable_now(sock)


def readable_now(sock: socket.socket) -> bool:
    """A kept-alive socket with something to read before any request was sent on it: the server's
    close (EOF), or bytes no request asked for. Either way it must not carry a request."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))
