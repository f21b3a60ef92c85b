"""Chat Completions `messages` -> the Messages API's `system` and `messages`. No I/O.

- system and developer messages, wherever they stand, become the top-level `system`: one text block
  per text part, in order.
- user and assistant messages keep their order; consecutive turns of the same Anthropic role are
  merged. The Messages API would combine them anyway ("Consecutive user or assistant turns in your
  request will be combined into a single turn", MessageCreateParams.messages), but merging here lets
  tool results go first in their turn, which the API requires of a turn answering tool calls.
- tool messages become `tool_result` blocks in a user turn; assistant `tool_calls` become `tool_use`.
- empty and whitespace-only text is dropped (the API rejects text blocks without non-whitespace text),
  and a message left empty is dropped.
- a last assistant message is passed on as a prefill, its trailing whitespace removed (the API
  rejects a final assistant turn ending in whitespace; models without prefill answer 400 upstream).
- a conversation of only system messages becomes one user turn: OpenAI answers such a request, the
  Messages API needs at least one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from codegateway.openai_compat.errors import InvalidChatRequest
from codegateway.openai_compat.images import image_block

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Conversation:
    system: list[Block]
    messages: list[dict[str, Any]]


def translate_messages(openai_messages: object) -> Conversation:
    if not isinstance(openai_messages, list) or not openai_messages:
        raise InvalidChatRequest("messages: a non-empty list of messages is required.", param="messages")
    system: list[Block] = []
    turns: list[dict[str, Any]] = []
    for position, message in enumerate(openai_messages):
        where = f"messages[{position}]"
        if not isinstance(message, dict):
            raise InvalidChatRequest(f"{where}: each message must be an object.", param=where)
        role = message.get("role")
        if role in ("system", "developer"):
            system += _text_blocks(message.get("content"), where, allow_refusal=False)
        elif role == "user":
            _append_turn(turns, "user", _user_blocks(message.get("content"), where))
        elif role == "assistant":
            _append_turn(turns, "assistant", _assistant_blocks(message, where))
        elif role == "tool":
            _append_turn(turns, "user", [_tool_result_block(message, where)])
        elif role == "function":
            raise InvalidChatRequest(
                f"{where}: the deprecated 'function' role is not supported; send tool results as 'tool' messages.",
                param=f"{where}.role",
            )
        else:
            raise InvalidChatRequest(f"{where}.role: unknown role {role!r}.", param=f"{where}.role")
    if turns and turns[-1]["role"] == "assistant":
        _strip_trailing_whitespace(turns)
    if not turns:
        if not system:
            raise InvalidChatRequest("messages: at least one message must have content.", param="messages")
        return Conversation(system=[], messages=[_compact({"role": "user", "content": system})])
    return Conversation(system=system, messages=[_compact(turn) for turn in turns])


def _append_turn(turns: list[dict[str, Any]], role: str, blocks: list[Block]) -> None:
    if not blocks:
        return
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"] += blocks
    else:
        turns.append({"role": role, "content": blocks})


def _compact(turn: dict[str, Any]) -> dict[str, Any]:
    blocks: list[Block] = turn["content"]
    if turn["role"] == "user":
        blocks = sorted(blocks, key=lambda block: block["type"] != "tool_result")  # stable: tool results first
    if len(blocks) == 1 and blocks[0]["type"] == "text":
        return {"role": turn["role"], "content": blocks[0]["text"]}
    return {"role": turn["role"], "content": blocks}


def _strip_trailing_whitespace(turns: list[dict[str, Any]]) -> None:
    blocks: list[Block] = turns[-1]["content"]
    if blocks[-1]["type"] != "text":
        return
    text = blocks[-1]["text"].rstrip()
    if text:
        blocks[-1] = {"type": "text", "text": text}
        return
    blocks.pop()
    if not blocks:
        turns.pop()


def _text_blocks(content: object, where: str, *, allow_refusal: bool) -> list[Block]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content.strip() else []
    if not isinstance(content, list):
        raise InvalidChatRequest(f"{where}.content: must be a string or a list of content parts.", param=where)
    blocks: list[Block] = []
    for index, part in enumerate(content):
        part_where = f"{where}.content[{index}]"
        part_type = part.get("type") if isinstance(part, dict) else None
        if part_type != "text" and not (allow_refusal and part_type == "refusal"):
            raise InvalidChatRequest(f"{part_where}: only text parts are allowed here.", param=part_where)
        blocks += _text_part(part, part_where)
    return blocks


def _text_part(part: dict[str, Any], where: str) -> list[Block]:
    text = part.get("refusal") if part["type"] == "refusal" else part.get("text")
    if not isinstance(text, str):
        raise InvalidChatRequest(f"{where}: a {part['type']} part needs a string.", param=where)
    return [{"type": "text", "text": text}] if text.strip() else []


def _user_blocks(content: object, where: str) -> list[Block]:
    if content is None:
        raise InvalidChatRequest(f"{where}.content: a user message needs content.", param=f"{where}.content")
    if not isinstance(content, list):
        return _text_blocks(content, where, allow_refusal=False)
    blocks: list[Block] = []
    for index, part in enumerate(content):
        part_where = f"{where}.content[{index}]"
        part_type = part.get("type") if isinstance(part, dict) else None
        if part_type == "text":
            blocks += _text_part(part, part_where)
        elif part_type == "image_url":
            blocks.append(image_block(part.get("image_url"), part_where))
        elif part_type in ("input_audio", "file"):
            raise InvalidChatRequest(
                f"{part_where}: '{part_type}' content parts are not supported; send text and images.",
                param=part_where,
            )
        else:
            raise InvalidChatRequest(f"{part_where}: unknown content part type {part_type!r}.", param=part_where)
    return blocks


def _assistant_blocks(message: dict[str, Any], where: str) -> list[Block]:
    if message.get("function_call") is not None:
        raise InvalidChatRequest(
            f"{where}.function_call: deprecated function calls are not supported; use tool_calls.",
            param=f"{where}.function_call",
        )
    blocks = _text_blocks(message.get("content"), where, allow_refusal=True)
    tool_calls = message.get("tool_calls")
    if tool_calls is None:
        return blocks
    if not isinstance(tool_calls, list):
        raise InvalidChatRequest(f"{where}.tool_calls: must be a list.", param=f"{where}.tool_calls")
    return blocks + [_tool_use_block(call, f"{where}.tool_calls[{index}]") for index, call in enumerate(tool_calls)]


def _tool_use_block(call: object, where: str) -> Block:
    if not isinstance(call, dict) or call.get("type", "function") != "function":
        raise InvalidChatRequest(f"{where}: only function tool calls are supported.", param=where)
    function = call.get("function")
    call_id = call.get("id")
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(call_id, str) or not call_id or not isinstance(name, str) or not name:
        raise InvalidChatRequest(f"{where}: a tool call needs an id and a function name.", param=where)
    arguments = function.get("arguments") if isinstance(function, dict) else None
    if arguments is None or arguments == "":
        tool_input: object = {}
    elif isinstance(arguments, str):
        try:
            tool_input = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            tool_input = None
    else:
        tool_input = arguments
    if not isinstance(tool_input, dict):
        raise InvalidChatRequest(
            f"{where}.function.arguments: must be a JSON object encoded as a string.",
            param=f"{where}.function.arguments",
        )
    return {"type": "tool_use", "id": call_id, "name": name, "input": tool_input}


def _tool_result_block(message: dict[str, Any], where: str) -> Block:
    tool_call_id = message.get("tool_call_id")
    if not isinstance(tool_call_id, str) or not tool_call_id:
        raise InvalidChatRequest(f"{where}.tool_call_id: a tool message needs the id of its tool call.", param=where)
    block: Block = {"type": "tool_result", "tool_use_id": tool_call_id}
    content = message.get("content")
    if isinstance(content, str):
        if content:
            block["content"] = content
    elif content is not None:
        parts = _text_blocks(content, where, allow_refusal=False)
        if parts:
            block["content"] = parts
    return block
