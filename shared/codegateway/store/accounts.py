"""Accounts table: PK account_id. Also holds `email#<address>` claim items that keep emails unique."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from codegateway.domain.records import Account
from codegateway.store.client import DynamoClient, call, error_code, write_if
from codegateway.store.items import Item, caps_attr, get_caps, get_n, get_s, n, req_n, req_s, s
from codegateway.store.steps import Call, Steps, run_blocking, run_from_loop

if TYPE_CHECKING:
    from codegateway.store.dynamodb_loop import DynamoDBLoopClient

EMAIL_CLAIM_PREFIX = "email#"
BY_EMAIL_INDEX = "by-email"


class EmailTaken(Exception):
    pass


@dataclass(frozen=True)
class AccountPage:
    """One page of a scan: accounts, and where the next page starts."""

    accounts: list[Account]
    next_cursor: Item | None


def account_from_item(item: Item) -> Account:
    return Account(
        account_id=req_s(item, "account_id"),
        email=req_s(item, "email"),
        status=req_s(item, "status"),
        balance_nano=req_n(item, "balance_nano"),
        available_nano=req_n(item, "available_nano"),
        markup_bp=req_n(item, "markup_bp"),
        spend_90d_nano=get_n(item, "spend_90d_nano", 0) or 0,
        created_at=req_s(item, "created_at"),
        rpm_limit=get_n(item, "rpm_limit"),
        name=get_s(item, "name", "") or "",
        overdraft_nano=get_n(item, "overdraft_nano"),
        spend_caps=get_caps(item),
    )


def account_to_item(account: Account) -> Item:
    item: Item = {
        "account_id": s(account.account_id),
        "email": s(account.email),
        "status": s(account.status),
        "balance_nano": n(account.balance_nano),
        "available_nano": n(account.available_nano),
        "markup_bp": n(account.markup_bp),
        "spend_90d_nano": n(account.spend_90d_nano),
        "created_at": s(account.created_at),
        "name": s(account.name),
    }
    if account.rpm_limit is not None:
        item["rpm_limit"] = n(account.rpm_limit)
    if account.overdraft_nano is not None:
        item["overdraft_nano"] = n(account.overdraft_nano)
    return item


class AccountsTable:
    def __init__(self, client: DynamoClient, table_name: str, loop_client: DynamoDBLoopClient | None = None) -> None:
        self._client = client
        self._table = table_name
        self._loop_client = loop_client

    def get(self, account_id: str) -> Account | None:
        return run_blocking(self._client, self._get(account_id))

    async def get_from_loop(self, account_id: str) -> Account | None:
        return await run_from_loop(self._loop_client, self._get(account_id), lambda: self.get(account_id))

    def _get(self, account_id: str) -> Steps[Account | None]:
        params = {"TableName": self._table, "Key": {"account_id": s(account_id)}, "ConsistentRead": True}
        answer = yield Call("get_item", params)
        item = answer.get("Item")
        return account_from_item(item) if item else None

    def create(self, account: Account) -> None:
        """Write a new account and claim its email in one transaction; EmailTaken if claimed."""
        claim = {"account_id": s(EMAIL_CLAIM_PREFIX + account.email.lower()), "owner": s(account.account_id)}
        try:
            call(
                self._client.transact_write_items,
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": claim,
                            "ConditionExpression": "attribute_not_exists(account_id)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": account_to_item(account),
                            "ConditionExpression": "attribute_not_exists(account_id)",
                        }
                    },
                ],
            )
        except ClientError as error:
            if error_code(error) == "TransactionCanceledException":
                raise EmailTaken(account.email) from error
            raise

    def scan_page(
        self, *, segment: int = 0, total_segments: int = 1, limit: int | None = None, cursor: Item | None = None
    ) -> AccountPage:
        """One page of a (segment of a) full scan, skipping the email-claim items. Used by listings
        (one segment) and the tier job (parallel segments)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Segment": segment,
            "TotalSegments": total_segments,
            "FilterExpression": "attribute_exists(balance_nano)",
            "ConsistentRead": True,
        }
        if limit is not None:
            kwargs["Limit"] = limit
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        response = call(self._client.scan, **kwargs)
        accounts = [account_from_item(item) for item in response.get("Items", [])]
        return AccountPage(accounts, response.get("LastEvaluatedKey"))

    def find_by_email(self, email: str) -> Account | None:
        response = call(
            self._client.query,
            TableName=self._table,
            IndexName=BY_EMAIL_INDEX,
            KeyConditionExpression="email = :email",
            ExpressionAttributeValues={":email": s(email.strip().lower())},
        )
        items = response.get("Items", [])
        return self.get(items[0]["account_id"]["S"]) if items else None

    def set_overdraft(self, account_id: str, overdraft_nano: int) -> bool:
        """The account's overdraft limit: how far below zero its balance may go while requests that
        were admitted finish. False if there is no such account."""
        return self._set(account_id, "overdraft_nano", n(overdraft_nano))

    def set_spend_caps(self, account_id: str, caps: dict[str, int]) -> bool:
        return self._set(account_id, "spend_caps", caps_attr(caps))

    def set_status(self, account_id: str, status: str) -> bool:
        return self._set(account_id, "status", s(status))

    def _set(self, account_id: str, attribute: str, value: dict[str, Any]) -> bool:
        return write_if(
            self._client.update_item,
            TableName=self._table,
            Key={"account_id": s(account_id)},
            UpdateExpression="SET #attribute = :value",
            ConditionExpression="attribute_exists(balance_nano)",
            ExpressionAttributeNames={"#attribute": attribute},
            ExpressionAttributeValues={":value": value},
        )
