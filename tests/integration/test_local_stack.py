"""`cgw dev` prints what it promises, and each part it starts answers."""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlsplit

import httpx

from tests.support.stack import RunningStack


def test_first_line_names_the_upstream_and_exports_stand_on_their_own_lines(stack: RunningStack) -> None:
    assert stack.upstream_line.startswith(
        "CodeGateway local stack: upstream is the bundled emulator at http://127.0.0.1:"
    )
    exports = [line.rstrip("\n") for line in stack.output if line.startswith("export ")]
    assert re.fullmatch(r"export ANTHROPIC_BASE_URL=http://127\.0\.0\.1:\d+", exports[0])
    assert re.fullmatch(r"export ANTHROPIC_API_KEY=sk-cg-[0-9a-f]{16}_[A-Za-z0-9_-]{43}", exports[1])
    assert re.fullmatch(r"export CGW_DYNAMODB_ENDPOINT=http://127\.0\.0\.1:\d+", exports[2])


def test_the_demo_key_works_and_holds_the_starter_credit(stack: RunningStack) -> None:
    account = httpx.get(f"{stack.base_url}/v1/account", headers={"x-api-key": stack.api_key}).json()
    assert account["email"] == "demo@codegateway.local"
    assert account["status"] == "active"


def test_the_admin_api_answers_on_loopback(stack: RunningStack) -> None:
    assert stack.admin_url is not None
    created = httpx.post(f"{stack.admin_url}/v1/accounts", json={"email": "local-admin@example.com"})
    assert created.status_code == 201
    assert created.json()["balance_usd"] == "2.00"


def test_the_local_dynamodb_keeps_a_connection_open_across_calls_as_dynamodb_does(stack: RunningStack) -> None:
    # A new connection per call would make every botocore call pay for a TCP and urllib3 connection that
    # production does not: the bench's "with DynamoDB" CPU would overstate the gateway's.
    host = urlsplit(stack.dynamodb_endpoint).netloc
    connection = http.client.HTTPConnection(host, timeout=10)
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        # moto routes by the credential scope and does not check the signature.
        "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    answers, sockets = [], []
    for _ in range(3):
        connection.request("POST", "/", body=b"{}", headers=headers)
        response = connection.getresponse()
        answers.append((response.status, response.getheader("Connection"), json.loads(response.read())))
        sockets.append(connection.sock)
    connection.close()
    assert [status for status, _, _ in answers] == [200, 200, 200]
    assert all("TableNames" in body and connection_header != "close" for _, connection_header, body in answers)
    assert sockets[0] is not None and all(sock is sockets[0] for sock in sockets)
