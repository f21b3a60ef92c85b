"""The DynamoDB client: built once per process, and the one place that turns transport failures
into the gateway's fail-closed StoreUnavailable, and throttling into retries then StoreThrottled.
Also the two idioms every table uses: a conditional write (`write_if`) and reading every page
(`all_pages`)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import BotoCoreError, ClientError

from codegateway.errors import StoreThrottled, StoreUnavailable
from codegateway.settings import Settings
from codegateway.store.dynamodb_http import DynamoDBHttpClient, regional_endpoint
from codegateway.store.items import Item

DynamoClient = Any  # botocore's generated client has no importable static type.
Operation = Callable[..., dict[str, Any]]

# The local stack (moto) accepts any credentials; don't make a developer configure some.
_LOCAL = "local"

# The cancellation reason of a transaction item whose condition failed.
CONDITION_FAILED = "ConditionalCheckFailed"


def build_dynamodb_client(settings: Settings) -> DynamoClient:
    """The tables' client: DynamoDB's JSON protocol over kept-alive connections (store/dynamodb_http.py),
    or botocore's own with CGW_DYNAMODB_CLIENT=botocore."""
    if settings.dynamodb_client == "botocore" or _endpoint_from_aws_environment(settings):
        return build_botocore_client(settings)
    endpoint, credentials = _endpoint_and_credentials(settings)
    return DynamoDBHttpClient(
        endpoint, settings.aws_region, credentials, timeout_s=settings.dynamodb_timeout_s,
        max_idle_connections=settings.io_threads,
    )  # fmt: skip


def _endpoint_and_credentials(settings: Settings) -> tuple[str, Callable[[], ReadOnlyCredentials | None]]:
    if settings.dynamodb_endpoint:
        local = ReadOnlyCredentials(_LOCAL, _LOCAL, None)
        return settings.dynamodb_endpoint, lambda: local
    # The default chain (in Lambda: the function role's variables), refreshed by botocore when it expires.
    chain = botocore.session.Session().get_credentials()
    return regional_endpoint(settings.aws_region), lambda: None if chain is None else chain.get_frozen_credentials()


# Endpoint choices botocore makes from the AWS environment that the JSON client does not: FIPS,
# dual-stack, an endpoint URL (LocalStack, a VPC endpoint). Silently ignoring one would send the
# gateway's writes somewhere else than asked; botocore's client honours them all.
_BOTOCORE_ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
)  # fmt: skip
# Regions whose DynamoDB endpoint regional_endpoint knows: the aws, aws-cn and aws-us-gov partitions.
_REGION_PREFIXES = ("us-", "eu-", "ap-", "sa-", "ca-", "me-", "af-", "il-", "mx-", "cn-")


def _endpoint_from_aws_environment(settings: Settings) -> bool:
    if settings.dynamodb_endpoint:
        return False
    if any(os.environ.get(name, "").strip().lower() not in ("", "false") for name in _BOTOCORE_ENDPOINT_VARIABLES):
        return True
    region = settings.aws_region
    return not region.startswith(_REGION_PREFIXES) or "-iso" in region


def build_botocore_client(settings: Settings) -> DynamoClient:
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
        kwargs.update(endpoint_url=settings.dynamodb_endpoint, aws_access_key_id=_LOCAL, aws_secret_access_key=_LOCAL)
    # botocore directly, not boto3: boto3 would also import s3transfer, ~0.1 s of cold start for nothing.
    return botocore.session.Session().create_client("dynamodb", **kwargs)


# A throttled request is refused before it applies (DynamoDB: "the request was not processed"), and
# a transaction cancelled for throttling applies none of its items: both are safe to send again.
THROTTLE_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "Throttling"}
)
THROTTLE_CANCELLATION_CODES = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})


@dataclass(frozen=True, slots=True)
class ThrottleRetry:
    """Backoff for throttled calls, on top of botocore's own single retry: full jitter, capped
    (AWS Architecture Blog, "Exponential Backoff And Jitter"). Worst case about 0.05+0.1+0.2+0.4 s
    of sleep before the caller is told 503 with `retry-after`."""

    attempts: int = 5
    base_s: float = 0.05
    cap_s: float = 0.8
    retry_after_s: int = 1
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = field(default=random.uniform)

    def delay_s(self, attempt: int) -> float:
        return self.jitter(0.0, min(self.cap_s, self.base_s * 2**attempt))


THROTTLE_RETRY = ThrottleRetry()


def is_throttled(error: ClientError) -> bool:
    """A throttled call, or a transaction DynamoDB cancelled only because part of it was throttled."""
    code = error_code(error)
    if code in THROTTLE_CODES:
        return True
    if code != "TransactionCanceledException":
        return False
    reasons = {reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])}
    # A failed condition is a real answer (balance, duplicate): never retried as if it were a throttle.
    return bool(reasons & THROTTLE_CANCELLATION_CODES) and CONDITION_FAILED not in reasons


def call(operation: Operation, **kwargs: Any) -> dict[str, Any]:
    """Run one DynamoDB operation; transport failures become StoreUnavailable (fail closed), and a
    throttled call is retried with backoff, then becomes StoreThrottled (503 with retry-after)."""
    return call_retrying_throttles(operation, kwargs, THROTTLE_RETRY)


def call_retrying_throttles(operation: Operation, kwargs: Mapping[str, Any], retry: ThrottleRetry) -> dict[str, Any]:
    """`call` with its backoff policy given (tests pass one that records instead of sleeping)."""
    for attempt in range(retry.attempts):
        try:
            return _call_once(operation, **kwargs)
        except ClientError as error:
            if not is_throttled(error):
                raise
            if attempt == retry.attempts - 1:
                raise StoreThrottled(retry_after_s=retry.retry_after_s) from error
            retry.sleep(retry.delay_s(attempt))
    raise AssertionError("unreachable: the last attempt returns or raises")


def _call_once(operation: Operation, **kwargs: Any) -> dict[str, Any]:
    try:
        return operation(**kwargs)
    except (ClientError, BotoCoreError) as error:
        if fails_closed(error):
            raise StoreUnavailable() from error
        raise


def fails_closed(error: ClientError | BotoCoreError) -> bool:
    """A failure the caller is told as StoreUnavailable: the transport's (a connection refused, reset
    or timed out), DynamoDB's 5xx that is not a throttle, or a transaction still in progress (the
    first attempt timed out while DynamoDB applied it: it may yet land, so the caller undoes it as
    after a lost answer). Any other ClientError is an answer."""
    if isinstance(error, ClientError):
        if error_code(error) == "TransactionInProgressException":
            return True
        return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400) >= 500 and not is_throttled(error)
    return True


# DynamoDB refuses (rather than queues) concurrent transactions on one item: those are tried again.
CONFLICT_ATTEMPTS = 8


def is_conflict(error: ClientError) -> bool:
    code = error_code(error)
    if code == "TransactionConflictException":
        return True
    if code == "TransactionCanceledException":
        return any(r.get("Code") == "TransactionConflict" for r in error.response.get("CancellationReasons", []))
    return False


def conflict_delay_s(attempt: int) -> float:
    return random.uniform(0, 0.01 * 2**attempt)


def call_retrying_conflicts(operation: Operation, **kwargs: Any) -> dict[str, Any]:
    """`call` for a transaction: one refused for a concurrent transaction on its items is sent again."""
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            return call(operation, **kwargs)
        except ClientError as error:
            if not is_conflict(error) or attempt == CONFLICT_ATTEMPTS - 1:
                raise
            time.sleep(conflict_delay_s(attempt))
    raise AssertionError("unreachable")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_condition_failed(error: ClientError) -> bool:
    """A single-item write refused by its condition (a transaction's is in cancellation_codes)."""
    return error_code(error) == "ConditionalCheckFailedException"


def cancellation_codes(error: ClientError) -> list[str]:
    """Why DynamoDB cancelled a transaction: one code per item, in order ("None" for an item that
    was fine); [] for any other error."""
    return [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]


def write_if(operation: Operation, **kwargs: Any) -> bool:
    """A conditional single-item write (put, update, delete): True if it applied, False if its
    condition failed. Any other failure raises, as `call` does."""
    return answer_if(operation, **kwargs) is not None


def answer_if(operation: Operation, **kwargs: Any) -> dict[str, Any] | None:
    """write_if that keeps DynamoDB's answer (e.g. ReturnValues): None if the condition failed."""
    try:
        answer: dict[str, Any] = call(operation, **kwargs)
    except ClientError as error:
        if is_condition_failed(error):
            return None
        raise
    return answer


def all_pages(operation: Operation, request: Mapping[str, Any]) -> Iterator[Item]:
    """Every item a Query or Scan matches, page after page."""
    page_request = dict(request)
    while True:
        response = call(operation, **page_request)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        page_request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
