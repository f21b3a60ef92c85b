"""POST /v1/chat/completions: OpenAI's protocol, on the same keys, limits and metering."""

from __future__ import annotations

import functools
import time

import orjson
from starlette.requests import Request
from starlette.responses import Response

from codegateway.domain.outcomes import ApiSurface
from codegateway.edge.caller import authenticated
from codegateway.errors import InvalidRequest
from codegateway.proxy.admitting import admit
from codegateway.proxy.chat_completions import encoder_for, messages_headers, translate_chat_request
from codegateway.proxy.runtime import Gateway
from codegateway.web.body import read_limited_body
from codegateway.web.messages import ForwardingResponse, new_exchange


async def create_chat_completion(request: Request) -> Response:
    started = time.monotonic()
    # Errors on this route answer in OpenAI's shape (web/error_responses.py reads this).
    request.scope["state"]["api_surface"] = ApiSurface.OPENAI
    gateway: Gateway = request.app.state.gateway
    caller = await authenticated(request, gateway.authenticator)
    body = await read_limited_body(request, gateway.settings.max_body_bytes)
    try:
        openai_body = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(f"The request body is not valid JSON: {error}.") from None
    chat = translate_chat_request(openai_body)
    exchange = new_exchange(
        request,
        gateway,
        caller,
        chat.messages_body,
        started=started,
        path="/v1/messages",
        headers=messages_headers(request.scope["headers"]),
        source=ApiSurface.OPENAI,
    )
    opening = await admit(exchange, gateway.admission, gateway.upstream, gateway.settlement)
    return ForwardingResponse(gateway, exchange, functools.partial(encoder_for, chat), opening)
