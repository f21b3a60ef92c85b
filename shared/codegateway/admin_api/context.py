"""What every admin route needs: the store and settings built once per process, and the caller's IAM
identity (the actor written into ledger entries, and into every request's log line)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from codegateway.edge.caller import iam_actor
from codegateway.settings import Settings
from codegateway.store import Store


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AdminStore = Annotated[Store, Depends(_store)]
AdminSettings = Annotated[Settings, Depends(_settings)]
Actor = Annotated[str, Depends(iam_actor)]
