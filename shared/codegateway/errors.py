"""The gateway's error dictionary (docs/architecture.md): one exception per answer, one place that shapes bodies.

Logic raises these; the web layer turns them into Anthropic-shaped (or OpenAI-shaped) responses.
Upstream errors are never wrapped: their bodies pass through unchanged.
"""

from __future__ import annotations

import orjson


class GatewayError(Exception):
    status: int = 500
    error_type: str = "api_error"
    default_message: str = "The gateway failed to handle the request."

    @property
    def should_retry(self) -> bool:
        """Sent as `x-should-retry`, which the SDKs and Claude Code obey: without it they retry a
        bad key or an empty balance for minutes before the user sees why."""
        return self.status == 429 or self.status >= 500

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.headers = headers or {}
        super().__init__(self.message)


class InvalidRequest(GatewayError):
    status = 400
    error_type = "invalid_request_error"


class AuthenticationFailed(GatewayError):
    # One message for missing, malformed, unknown, wrong and revoked keys: the answer must not tell
    # an attacker which of those it was.
    status = 401
    error_type = "authentication_error"
    default_message = "Invalid API key. Send a CodeGateway key (sk-cg-...) in x-api-key or Authorization: Bearer."


class InsufficientBalance(GatewayError):
    status = 402
    error_type = "billing_error"
    default_message = (
        "Your CodeGateway balance cannot cover this request. Ask your gateway administrator to top up "
        "the account (cgw topup ACCOUNT_ID AMOUNT_USD), then retry."
    )


class PermissionDenied(GatewayError):
    status = 403
    error_type = "permission_error"


class AccountSuspended(PermissionDenied):
    default_message = "This CodeGateway account is suspended. Contact your gateway administrator."


class SignupClosed(PermissionDenied):
    default_message = "Sign-up is closed on this gateway. Ask its administrator for an account."


class CodeRefused(GatewayError):
    """A sign-up or sign-in code that is wrong, used, expired or out of tries: one answer for all,
    so a guesser learns nothing but "no"."""

    status = 400
    error_type = "invalid_request_error"
    default_message = "That code is wrong, used or expired. Ask for a new code and try again."


class NotFound(GatewayError):
    status = 404
    error_type = "not_found_error"
    default_message = "Not found."


class Conflict(GatewayError):
    """The request clashes with what exists: a taken email, an already revoked key, a reused
    idempotency key with a different amount. Anthropic has no conflict type; 409 says it."""

    status = 409
    error_type = "invalid_request_error"


class MethodNotAllowed(GatewayError):
    status = 405
    error_type = "invalid_request_error"
    default_message = "Method not allowed."


class RequestTooLarge(GatewayError):
    status = 413
    error_type = "request_too_large"


class UnknownModel(GatewayError):
    status = 422
    error_type = "invalid_request_error"


class RateLimited(GatewayError):
    status = 429
    error_type = "rate_limit_error"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, headers={"retry-after": str(retry_after_s)})
        self.retry_after_s = retry_after_s


class SpendCapReached(GatewayError):
    """A key's or account's spend cap for the period is used up. 429 (as Anthropic's own gateway
    answers), but not worth retrying until the reset: `x-should-retry: false`, `retry-after` to it."""

    status = 429
    error_type = "billing_error"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, headers={"retry-after": str(retry_after_s)})

    @property
    def should_retry(self) -> bool:
        return False


class StoreUnavailable(GatewayError):
    # Fail closed: without the key table no request is let through.
    status = 503
    error_type = "api_error"
    default_message = "The gateway cannot reach its key store right now; the request was not sent. Retry shortly."


class StoreThrottled(StoreUnavailable):
    """DynamoDB kept throttling (past the store's backoff). Nothing was written, so the client may
    retry as told; a StoreUnavailable subclass, so every fail-closed path treats it the same."""

    error_type = "overloaded_error"
    default_message = "The gateway's database is throttling requests right now. Retry after the retry-after interval."

    def __init__(self, message: str | None = None, *, retry_after_s: int = 1) -> None:
        super().__init__(message, headers={"retry-after": str(retry_after_s)})
        self.retry_after_s = retry_after_s


class UpstreamFailure(GatewayError):
    """The upstream could not be used; `attempts` says how many tries it took to give up."""

    def __init__(self, message: str | None = None, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class UpstreamConnectFailed(UpstreamFailure):
    status = 502
    error_type = "api_error"
    default_message = "The gateway could not reach the Anthropic API (after one retry)."


class UpstreamTimeout(UpstreamFailure):
    status = 504
    error_type = "timeout_error"
    default_message = "The Anthropic API did not answer in time."


def anthropic_error_body(error_type: str, message: str, request_id: str | None = None) -> bytes:
    body: dict[str, object] = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id:
        body["request_id"] = request_id
    return orjson.dumps(body)


def sse_error_event(error_type: str, message: str) -> bytes:
    """An Anthropic stream `error` event, for failures after the first byte went out."""
    data = orjson.dumps({"type": "error", "error": {"type": error_type, "message": message}})
    return b"event: error\ndata: " + data + b"\n\n"
