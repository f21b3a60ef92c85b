"""The DynamoDB client's SigV4 (store/sigv4.py) signs exactly as botocore's signer does, for every
variant it meets: with and without a session token, a host with a port, a new day, new credentials."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import patch

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from codegateway.store.sigv4 import DynamoDBSigner

BODY = b'{"TableName":"codegateway-accounts","Key":{"account_id":{"S":"acct_1"}}}'
TARGET = "DynamoDB_20120810.GetItem"


def _botocore(url: str, region: str, at: datetime, key: str, secret: str, token: str | None) -> str:
    request = AWSRequest(
        method="POST",
        url=url,
        data=BODY,
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": TARGET},
    )
    with patch("botocore.auth.get_current_datetime", return_value=at.replace(tzinfo=None)):
        SigV4Auth(Credentials(key, secret, token), "dynamodb", region).add_auth(request)
    return str(request.headers["Authorization"])


@pytest.mark.parametrize("token", ["FwoGZXIvYXdzEBYaDH+token/with=chars", None])
@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://dynamodb.eu-central-1.amazonaws.com/", "dynamodb.eu-central-1.amazonaws.com"),
        ("http://127.0.0.1:8000/", "127.0.0.1:8000"),
    ],
)
def test_each_signature_is_the_one_botocore_computes(url: str, host: str, token: str | None) -> None:
    moments = [datetime(2026, 12, 2, 23, 59, 58, tzinfo=UTC), datetime(2026, 12, 3, 0, 0, 1, tzinfo=UTC)]
    clock = iter(moment.timestamp() for moment in [*moments, moments[1], moments[1]])
    signer = DynamoDBSigner("eu-central-1", host, clock=lambda: next(clock))
    credentials = [("AKIDOLD", "old-secret"), ("AKIDOLD", "old-secret"), ("AKIDOLD", "old-secret"), ("AKIDNEW", "new")]
    for (key, secret), at in zip(credentials, [*moments, moments[1], moments[1]], strict=True):
        headers = signer.headers(TARGET, BODY, key, secret, token)
        assert headers["Authorization"] == _botocore(url, "eu-central-1", at, key, secret, token)
        assert headers["X-Amz-Date"] == at.strftime("%Y%m%dT%H%M%SZ")
        assert headers["Host"] == host
        assert headers.get("X-Amz-Security-Token") == token
