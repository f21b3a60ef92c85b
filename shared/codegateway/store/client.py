"""The DynamoDB client: built once per process, and the one place that turns transport failures
into the gateway's fail-closed StoreUnavailable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ReadTimeoutError

from codegateway.errors import StoreUnavailable
from codegateway.settings import Settings

DynamoClient = Any  # botocore's generated client has no importable static type.


def build_dynamodb_client(settings: Settings) -> DynamoClient:
    config = Config(
        region_name=settings.aws_region,
        connect_timeout=settings.dynamodb_timeout_s,
        read_timeout=settings.dynamodb_timeout_s,
        # Two attempts: a dead table should fail the request fast (503), not hang it.
        retries={"mode": "standard", "total_max_attempts": 2},
        max_pool_connections=settings.io_threads,
        tcp_keepalive=True,
    )
    kwargs: dict[str, Any] = {"config": config, "region_name": settings.aws_region}
    if settings.dynamodb_endpoint:
        # The local stack (moto) accepts any credentials; don't make a developer configure some.
        local = "local"
        kwargs.update(endpoint_url=settings.dynamodb_endpoint, aws_access_key_id=local, aws_secret_access_key=local)
    # botocore directly, not boto3: boto3 would also import s3transfer, ~0.1 s of cold start for nothing.
    return botocore.session.Session().create_client("dynamodb", **kwargs)


def call(operation: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    """Run one DynamoDB operation; transport failures become StoreUnavailable (fail closed)."""
    try:
        return operation(**kwargs)
    except ClientError as error:
        if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400) >= 500:
            raise StoreUnavailable() from error
        raise
    except (ConnectionError, ReadTimeoutError) as error:
        raise StoreUnavailable() from error
    except BotoCoreError as error:
        raise StoreUnavailable() from error


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
