"""What every admin route needs: the store and settings built once per process, and the caller's IAM
identity (the actor written into ledger entries)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from codegateway.settings import Settings
from codegateway.store import Store

LOCAL_ACTOR = "local"


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _actor(request: Request) -> str:
    """The IAM principal that signed the request: the Function URL (AuthType AWS_IAM) puts it in
    requestContext.authorizer.iam. Absent when the app runs locally, outside Lambda."""
    event: dict[str, Any] = request.scope.get("aws.event") or {}
    iam = (event.get("requestContext") or {}).get("authorizer", {}).get("iam") or {}
    actor = str(iam.get("userArn") or LOCAL_ACTOR)
    request.scope.setdefault("state", {}).get("log_fields", {})["actor"] = actor
    return actor


AdminStore = Annotated[Store, Depends(_store)]
AdminSettings = Annotated[Settings, Depends(_settings)]
Actor = Annotated[str, Depends(_actor)]
