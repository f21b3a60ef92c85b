"""GET /v1/models[/{id}]: the models the gateway serves (the catalog's, retired ones left out), newest
first, in Anthropic's list shape (or OpenAI's)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from codegateway.domain.pricing import ModelEntry
from codegateway.edge.caller import authenticated
from codegateway.errors import InvalidRequest, NotFound
from codegateway.openai_compat import to_openai_model_list
from codegateway.proxy.runtime import Gateway


def _model(entry: ModelEntry) -> dict[str, str]:
    return {
        "type": "model",
        "id": entry.model_id,
        "display_name": entry.display_name,
        "created_at": entry.created_at,
    }


def _limit(request: Request) -> int:
    # Anthropic's default page is 20; Claude Code's model discovery reads one page, so the default
    # here is the whole catalog. Paginating clients (the SDKs) still get has_more / last_id.
    raw = request.query_params.get("limit", "1000")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise InvalidRequest("limit: must be an integer from 1 to 1000.")
    return int(raw)


def wants_openai_shape(request: Request) -> bool:
    """OpenAI's list shape for OpenAI clients: the openai SDKs send no anthropic-version and say who they
    are in the user agent (`OpenAI/Python 3.57.0`); anyone may also ask with `?shape=openai`."""
    if request.query_params.get("shape") == "openai":
        return True
    user_agent = request.headers.get("user-agent", "")
    return "anthropic-version" not in request.headers and user_agent.lower().startswith("openai/")


async def list_models(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    await authenticated(request, gateway.authenticator)
    if wants_openai_shape(request):
        return JSONResponse(
            to_openai_model_list((entry.model_id, entry.created_at) for entry in gateway.catalog.served_models)
        )
    served = gateway.catalog.served_models
    ids = [entry.model_id for entry in served]
    start, end = 0, len(ids)
    after_id = request.query_params.get("after_id")
    before_id = request.query_params.get("before_id")
    if after_id in ids:
        start = ids.index(after_id) + 1
    if before_id in ids:
        end = ids.index(before_id)
    limit = _limit(request)
    if before_id and not after_id:
        start = max(start, end - limit)
    page = served[start:end][:limit]
    return JSONResponse(
        {
            "data": [_model(entry) for entry in page],
            "has_more": (start + len(page)) < end or (bool(before_id) and start > 0),
            "first_id": page[0].model_id if page else None,
            "last_id": page[-1].model_id if page else None,
        }
    )


async def get_model(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    await authenticated(request, gateway.authenticator)
    entry = gateway.catalog.get(request.path_params["model_id"])
    if entry is None or not entry.served:
        raise NotFound(f"model: '{request.path_params['model_id']}' is not a model this gateway serves.")
    return JSONResponse(_model(entry))
