"""A Chat Completions request body -> a Messages API request body. No I/O.

Translated: model, messages (see messages.py), max_completion_tokens / max_tokens, temperature, top_p,
stop, stream, tools, tool_choice, parallel_tool_calls, response_format (json_schema), user /
safety_identifier. `stream_options.include_usage` shapes the answer, not the request: see
`stream_includes_usage`.

Refused with a 400 (they would silently change what the client gets): n > 1, response_format
json_object, audio output, the deprecated functions / function_call, non-function tools.

Ignored (no Messages API equivalent, and dropping them changes no answer's shape): frequency_penalty,
presence_penalty, logit_bias, logprobs, top_logprobs, seed, service_tier, store, metadata, prediction,
prompt_cache_key, prompt_cache_retention, prompt_cache_options, reasoning_effort, verbosity,
web_search_options, moderation, modalities ["text"], a message's `name`, an image's `detail`, and any
field not named here.
"""

from __future__ import annotations

from typing import Any

from codegateway.openai_compat.errors import InvalidChatRequest
from codegateway.openai_compat.messages import translate_messages

# OpenAI lets max_tokens be absent (the model may use all its room); the Messages API requires it.
# 8192 is the largest output every model in the catalog accepts (Claude Haiku 3.5's limit) and leaves
# room for thinking on models that think by default. A streamed request's hold starts at
# min(max_tokens, 2,048) and grows as it streams; a plain one holds all of it (estimate.py).
DEFAULT_MAX_TOKENS = 8192

# OpenAI samples temperature in 0..2, the Messages API in 0..1, both defaulting to 1. Values above 1
# are clamped rather than halved, so the common 0, 0.2 and 0.7 keep their meaning and 1 stays the
# default. A value equal to the Messages API default (temperature 1, top_p 1) is not sent at all:
# Claude 4.1+ refuse temperature and top_p together and Claude 4.7+ refuse sampling parameters, yet
# OpenAI clients often send the defaults explicitly.
_ANTHROPIC_MAX_TEMPERATURE = 1.0
_OPENAI_MAX_TEMPERATURE = 2.0


def to_anthropic_request(
    openai_body: dict[str, Any],
    *,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
    forward_sampling_parameters: bool = True,
) -> dict[str, Any]:
    """The Messages API body for a Chat Completions body; raises InvalidChatRequest (a 400) when it cannot.

    `forward_sampling_parameters=False` drops temperature and top_p (after validating them), for models
    that reject them.
    """
    if not isinstance(openai_body, dict):
        raise InvalidChatRequest("The request body must be a JSON object.")
    _refuse_unsupported(openai_body)
    model = openai_body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidChatRequest("model: a model id string is required, e.g. claude-sonnet-4-6.", param="model")
    conversation = translate_messages(openai_body.get("messages"))
    request: dict[str, Any] = {"model": model, "max_tokens": _max_tokens(openai_body, default_max_tokens)}
    if conversation.system:
        request["system"] = conversation.system
    request["messages"] = conversation.messages
    tools = _tools(openai_body.get("tools"))
    if tools:
        request["tools"] = tools
    tool_choice = _tool_choice(openai_body.get("tool_choice"), openai_body.get("parallel_tool_calls"), bool(tools))
    if tool_choice:
        request["tool_choice"] = tool_choice
    stop_sequences = _stop_sequences(openai_body.get("stop"))
    if stop_sequences:
        request["stop_sequences"] = stop_sequences
    sampling = _sampling(openai_body)
    if forward_sampling_parameters:
        request.update(sampling)
    user_id = _user_id(openai_body)
    if user_id:
        request["metadata"] = {"user_id": user_id}
    output_format = _output_format(openai_body.get("response_format"))
    if output_format:
        request["output_config"] = {"format": output_format}
    if openai_body.get("stream") is True:
        request["stream"] = True
    return request


def stream_includes_usage(openai_body: dict[str, Any]) -> bool:
    """Whether a streamed answer ends with a usage chunk (`stream_options: {"include_usage": true}`)."""
    options = openai_body.get("stream_options")
    return openai_body.get("stream") is True and isinstance(options, dict) and options.get("include_usage") is True


def _refuse_unsupported(body: dict[str, Any]) -> None:
    n = body.get("n")
    if n is not None and n != 1:
        raise InvalidChatRequest("n: only one choice per request is supported (n must be 1).", param="n")
    for field in ("functions", "function_call"):
        if body.get(field) is not None:
            raise InvalidChatRequest(
                f"{field}: the deprecated functions API is not supported; use tools and tool_choice.", param=field
            )
    modalities = body.get("modalities")
    if body.get("audio") is not None or (isinstance(modalities, list) and "audio" in modalities):
        raise InvalidChatRequest("audio: audio output is not supported; this gateway answers in text.", param="audio")


def _max_tokens(body: dict[str, Any], default_max_tokens: int) -> int:
    for field in ("max_completion_tokens", "max_tokens"):
        value = body.get(field)
        if value is None:
            continue
        if not _is_int(value) or value < 1:
            raise InvalidChatRequest(f"{field}: must be a positive integer.", param=field)
        return int(value)
    return default_max_tokens


def _sampling(body: dict[str, Any]) -> dict[str, float]:
    sampling: dict[str, float] = {}
    temperature = body.get("temperature")
    if temperature is not None:
        if not _is_number(temperature) or not 0 <= temperature <= _OPENAI_MAX_TEMPERATURE:
            raise InvalidChatRequest("temperature: must be a number from 0 to 2.", param="temperature")
        if temperature < _ANTHROPIC_MAX_TEMPERATURE:
            sampling["temperature"] = temperature
    top_p = body.get("top_p")
    if top_p is not None:
        if not _is_number(top_p) or not 0 <= top_p <= 1:
            raise InvalidChatRequest("top_p: must be a number from 0 to 1.", param="top_p")
        if top_p < 1:
            sampling["top_p"] = top_p
    return sampling


def _stop_sequences(stop: object) -> list[str]:
    if stop is None:
        return []
    sequences = [stop] if isinstance(stop, str) else stop
    if not isinstance(sequences, list) or not all(isinstance(sequence, str) for sequence in sequences):
        raise InvalidChatRequest("stop: must be a string or a list of strings.", param="stop")
    return [sequence for sequence in sequences if sequence]


def _user_id(body: dict[str, Any]) -> str | None:
    # safety_identifier is OpenAI's successor to `user`; both mean an opaque end-user id.
    for field in ("safety_identifier", "user"):
        value = body.get(field)
        if isinstance(value, str) and value:
            return value
    return None


def _tools(tools: object) -> list[dict[str, Any]]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise InvalidChatRequest("tools: must be a list of tools.", param="tools")
    return [_tool(tool, f"tools[{index}]") for index, tool in enumerate(tools)]


def _tool(tool: object, where: str) -> dict[str, Any]:
    if not isinstance(tool, dict) or tool.get("type", "function") != "function":
        raise InvalidChatRequest(f"{where}: only function tools are supported.", param=where)
    function = tool.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
        raise InvalidChatRequest(f"{where}.function.name: a function name is required.", param=f"{where}.function")
    # The Messages API requires an object schema; OpenAI allows leaving parameters out.
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(parameters, dict):
        raise InvalidChatRequest(f"{where}.function.parameters: must be a JSON Schema object.", param=where)
    anthropic_tool: dict[str, Any] = {"name": function["name"]}
    if isinstance(function.get("description"), str) and function["description"]:
        anthropic_tool["description"] = function["description"]
    anthropic_tool["input_schema"] = parameters
    if function.get("strict") is True:
        anthropic_tool["strict"] = True
    return anthropic_tool


def _tool_choice(tool_choice: object, parallel_tool_calls: object, has_tools: bool) -> dict[str, Any] | None:
    if not has_tools:
        if tool_choice in (None, "auto", "none"):
            return None
        raise InvalidChatRequest("tool_choice: only allowed when tools are given.", param="tool_choice")
    if tool_choice == "none":
        return {"type": "none"}  # the "none" choice has no disable_parallel_tool_use field
    choice = _named_or_mode_choice(tool_choice)
    if parallel_tool_calls is False:
        return {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
    return choice


def _named_or_mode_choice(tool_choice: object) -> dict[str, Any] | None:
    if tool_choice is None:
        return None  # the Messages API's default is auto, as OpenAI's is with tools
    if tool_choice == "auto":
        return {"type": "auto"}
    if tool_choice == "required":
        return {"type": "any"}
    if isinstance(tool_choice, dict) and tool_choice.get("type") == "function":
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if isinstance(name, str) and name:
            return {"type": "tool", "name": name}
    raise InvalidChatRequest(
        "tool_choice: use 'auto', 'none', 'required' or {'type': 'function', 'function': {'name': ...}}.",
        param="tool_choice",
    )


def _output_format(response_format: object) -> dict[str, Any] | None:
    if response_format is None:
        return None
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "text":
        return None
    if kind == "json_schema" and isinstance(response_format, dict):
        json_schema = response_format.get("json_schema")
        schema = json_schema.get("schema") if isinstance(json_schema, dict) else None
        if not isinstance(schema, dict):
            raise InvalidChatRequest(
                "response_format.json_schema.schema: a JSON Schema object is required.", param="response_format"
            )
        # Structured outputs (output_config.format) hold the answer to the schema, as OpenAI's strict mode does.
        return {"type": "json_schema", "schema": schema}
    if kind == "json_object":
        raise InvalidChatRequest(
            "response_format: 'json_object' is not supported; send 'json_schema' with a schema instead.",
            param="response_format",
        )
    raise InvalidChatRequest(f"response_format: unknown type {kind!r}.", param="response_format")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
