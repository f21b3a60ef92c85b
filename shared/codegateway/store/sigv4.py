"""AWS Signature Version 4 for the one request shape the DynamoDB client sends: POST / with a JSON body.

botocore's SigV4Auth signs any request of any service, and so rebuilds a request model, canonicalises
every header and derives the signing key (four HMACs) on every call: 50 us a call here in a tight
loop, 150 us or more in the proxy (py-spy, docs/profiles/README.md). For this shape the canonical
request is a fixed template, and the signing key changes only with the date, so it is kept. The
algorithm is AWS's ("Create a signed AWS API request", IAM User Guide); the tests check every
signature against botocore's signer over the bytes and Host that arrived.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "dynamodb"
CONTENT_TYPE = "application/x-amz-json-1.0"


class DynamoDBSigner:
    def __init__(self, region: str, host_header: str, clock: Callable[[], float] = time.time) -> None:
        self._region = region
        self._host = host_header
        self._clock = clock
        # (secret key, date, signing key): one tuple, so a thread never pairs a key with another date.
        self._cached: tuple[str, str, bytes] = ("", "", b"")

    def headers(self, target: str, body: bytes, access_key: str, secret_key: str, token: str | None) -> dict[str, str]:
        """The request's headers, Authorization included; `target` is the X-Amz-Target value."""
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self._clock()))
        date = amz_date[:8]
        scope = f"{date}/{self._region}/{SERVICE}/aws4_request"
        if token:
            signed = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
            canonical_headers = (
                f"content-type:{CONTENT_TYPE}\nhost:{self._host}\nx-amz-date:{amz_date}\n"
                f"x-amz-security-token:{token}\nx-amz-target:{target}\n"
            )
        else:
            signed = "content-type;host;x-amz-date;x-amz-target"
            canonical_headers = (
                f"content-type:{CONTENT_TYPE}\nhost:{self._host}\nx-amz-date:{amz_date}\nx-amz-target:{target}\n"
            )
        canonical_request = f"POST\n/\n\n{canonical_headers}\n{signed}\n{hashlib.sha256(body).hexdigest()}"
        string_to_sign = f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        signature = hmac.digest(self._key(secret_key, date), string_to_sign.encode(), "sha256").hex()
        credential = f"{access_key}/{scope}"
        headers = {
            "Host": self._host,
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": target,
            "X-Amz-Date": amz_date,
            "Authorization": f"{ALGORITHM} Credential={credential}, SignedHeaders={signed}, Signature={signature}",
        }
        if token:
            headers["X-Amz-Security-Token"] = token
        return headers

    def _key(self, secret_key: str, date: str) -> bytes:
        cached_secret, cached_date, key = self._cached
        if (cached_secret, cached_date) != (secret_key, date) or not key:
            key = hmac.digest(("AWS4" + secret_key).encode(), date.encode(), "sha256")
            for part in (self._region, SERVICE, "aws4_request"):
                key = hmac.digest(key, part.encode(), "sha256")
            self._cached = (secret_key, date, key)
        return key
