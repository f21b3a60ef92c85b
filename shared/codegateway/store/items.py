"""Typed attribute helpers for the low-level DynamoDB client (faster than the resource layer)."""

from __future__ import annotations

from typing import Any

Item = dict[str, dict[str, Any]]


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def get_s(item: Item, name: str, default: str | None = None) -> str | None:
    attr = item.get(name)
    return attr["S"] if attr and "S" in attr else default


def get_n(item: Item, name: str, default: int | None = None) -> int | None:
    attr = item.get(name)
    return int(attr["N"]) if attr and "N" in attr else default


def req_s(item: Item, name: str) -> str:
    value: str = item[name]["S"]
    return value


def req_n(item: Item, name: str) -> int:
    return int(item[name]["N"])


def get_caps(item: Item, name: str = "spend_caps") -> dict[str, int]:
    attr = item.get(name)
    return {period: int(value["N"]) for period, value in attr["M"].items()} if attr and "M" in attr else {}


def caps_attr(caps: dict[str, int]) -> dict[str, Any]:
    return {"M": {period: n(nano) for period, nano in caps.items()}}
