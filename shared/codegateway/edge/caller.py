"""Who is calling, recorded in the request's log line the same way on every route.

Key holders (web/): the key is authenticated (every failure the same 401) and the log line gets the
caller's `account_id` and `key_id`. Admins (admin_api/): IAM signed the request, there is no key, and
the log line gets the signing principal as `actor`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

if TYPE_CHECKING:
    from codegateway.proxy.auth import Authenticator
    from codegateway.proxy.exchange import Caller

LOCAL_ACTOR = "local"


async def authenticated(request: Request, authenticator: Authenticator, presented_key: str | None = None) -> Caller:
    """The caller of a key holder's route. The key comes from the headers (x-api-key, or a bearer
    token), or as `presented_key` when the caller typed it into a form (the dashboard's sign-in)."""
    log_fields = request.scope["state"]["log_fields"]
    if presented_key is None:
        headers = request.headers
        caller = await authenticator.authenticate(headers.get("x-api-key"), headers.get("authorization"), log_fields)
    else:
        caller = await authenticator.authenticate(presented_key, None, log_fields)
    log_fields.update(account_id=caller.account.account_id, key_id=caller.key.key_id)
    return caller


def iam_actor(request: Request) -> str:
    """The IAM principal that signed an admin request: the Function URL (AuthType AWS_IAM) puts it in
    requestContext.authorizer.iam. Absent when the app runs locally, outside Lambda (`cgw dev`)."""
    event: dict[str, Any] = request.scope.get("aws.event") or {}
    iam = (event.get("requestContext") or {}).get("authorizer", {}).get("iam") or {}
    actor = str(iam.get("userArn") or LOCAL_ACTOR)
    request.scope.setdefault("state", {}).setdefault("log_fields", {})["actor"] = actor
    return actor
