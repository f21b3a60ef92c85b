"""The pricing catalog: today's models, their ids, statuses and rates, read from data
(pricing_catalog.json, or an operator's copy) and validated once. No I/O but that one read."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from codegateway.domain.money import BASIS_POINTS
from codegateway.domain.pricing import (
    STATUSES,
    Band,
    ClassRates,
    ModelEntry,
    RatePeriod,
    usd_per_mtok_to_pico_per_token,
    usd_to_pico,
)

FAMILIES = ("opus", "sonnet", "haiku", "fable", "mythos")
_CLASSES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
# Claude Code's local context selectors; they have leaked onto the wire before (claude-opus-4-8[1m]).
_CONTEXT_SUFFIX = re.compile(r"\[\d+m\]$", re.IGNORECASE)
# A well-formed id of a model released after this catalog: claude-<family>-<version parts>[-<date>].
# Anything else (claude-sonnet-4.6, Claude-Opus-4-8, a 7-digit date) is a typo and gets near ids.
_NEW_FAMILY_ID = re.compile(r"^(?:anthropic[./])?claude-(" + "|".join(FAMILIES) + r")(?:-\d{1,2})+(?:-\d{8})?$")

FAMILY_POLICY = "family"
REFUSE_POLICY = "refuse"


@dataclass(frozen=True, slots=True)
class Resolution:
    """The entry a request is priced with; priced_as is set when that is not the id it asked for."""

    entry: ModelEntry
    priced_as: str | None = None
    by_family: bool = False


def _rates(group: dict[str, str]) -> ClassRates:
    if set(group) != set(_CLASSES):
        raise ValueError(f"a price group needs exactly {', '.join(_CLASSES)}")
    return ClassRates(**{name: usd_per_mtok_to_pico_per_token(group[name]) for name in _CLASSES})


def _multiplier_bp(value: str | None) -> int:
    if value is None:
        return BASIS_POINTS
    scaled = Decimal(value) * BASIS_POINTS
    if scaled != scaled.to_integral_value():
        raise ValueError(f"multiplier {value} is finer than a basis point")
    return int(scaled)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text}: price change dates need a time zone (Z)")
    return moment


def _entry(raw: dict[str, Any], groups: dict[str, ClassRates], web_search_pico: int) -> ModelEntry:
    def bands(spec: dict[str, Any]) -> tuple[Band, ...]:
        return tuple(Band(int(band["prompt_tokens_over"]), groups[band["prices"]]) for band in spec.get("bands", []))

    periods = [RatePeriod(None, groups[raw["prices"]], bands(raw))]
    changes = sorted(raw.get("price_changes", []), key=lambda change: _moment(change["from"]))
    periods += [RatePeriod(_moment(change["from"]), groups[change["prices"]], bands(change)) for change in changes]
    if raw["status"] not in STATUSES:
        raise ValueError(f"{raw['id']}: status must be one of {', '.join(STATUSES)}")
    if raw["family"] not in FAMILIES:
        raise ValueError(f"{raw['id']}: family must be one of {', '.join(FAMILIES)}")
    return ModelEntry(
        model_id=raw["id"],
        family=raw["family"],
        display_name=raw["display_name"],
        created_at=raw["created_at"],
        status=raw["status"],
        periods=tuple(periods),
        fast_multiplier_bp=_multiplier_bp(raw.get("fast_multiplier")),
        us_residency_multiplier_bp=_multiplier_bp(raw.get("us_residency_multiplier")),
        web_search_pico_per_request=web_search_pico,
        retires_at=raw.get("retires_at"),
    )


class Catalog:
    def __init__(self, models: list[ModelEntry], version: str = "") -> None:
        self._models = {entry.model_id: entry for entry in models}
        if len(self._models) != len(models):
            raise ValueError("a model id is listed twice")
        # Newest first, as the catalog file lists them.
        self.models = models
        self.version = version

    @classmethod
    def from_json(cls, text: str) -> Catalog:
        raw = json.loads(text)
        groups = {name: _rates(group) for name, group in raw["price_groups"].items()}
        web_search_pico = usd_to_pico(raw["web_search_usd_per_request"])
        models = [_entry(entry, groups, web_search_pico) for entry in raw["models"]]
        return cls(models, str(raw.get("version", "")))

    @classmethod
    def load(cls, path: Path | None = None) -> Catalog:
        if path is not None:
            return cls.from_json(path.read_text())
        return cls.from_json(resources.files("codegateway.domain").joinpath("pricing_catalog.json").read_text())

    @property
    def served_models(self) -> list[ModelEntry]:
        return [entry for entry in self.models if entry.served]

    def get(self, model_id: str) -> ModelEntry | None:
        return self._models.get(model_id)

    def newest_of_family(self, family: str) -> ModelEntry | None:
        return next((entry for entry in self.models if entry.family == family and entry.served), None)

    def resolve(self, model_id: str, policy: str = FAMILY_POLICY) -> Resolution | None:
        """The entry to price model_id with, or None (a 422): the id itself; its base model for a
        `[1m]`/`[2m]` suffix; under the family policy, an unknown `claude-<family>-...` id at the
        newest served model of that family."""
        entry = self._models.get(model_id)
        if entry is not None:
            return Resolution(entry)
        base_id = _CONTEXT_SUFFIX.sub("", model_id)
        entry = self._models.get(base_id)
        if entry is not None:
            return Resolution(entry, priced_as=entry.model_id)
        if policy != FAMILY_POLICY:
            return None
        match = _NEW_FAMILY_ID.match(base_id)
        newest = self.newest_of_family(match.group(1)) if match else None
        return Resolution(newest, priced_as=newest.model_id, by_family=True) if newest else None

    def nearest_ids(self, model_id: str, limit: int = 3) -> list[str]:
        """Catalog ids a client probably meant: `claude-sonnet-4.6` -> `claude-sonnet-4-6`."""
        served = [entry.model_id for entry in self.served_models]
        normalised = model_id.strip().lower().replace(".", "-").replace("_", "-").replace(" ", "-")
        exact = [normalised] if normalised in served else []
        close = difflib.get_close_matches(normalised, served, n=limit, cutoff=0.6)
        return list(dict.fromkeys(exact + close))[:limit]
