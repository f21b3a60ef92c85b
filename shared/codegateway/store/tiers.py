"""What the tier job reads and writes: billed spend from the daily rollups (Usage table) and the two
tier attributes of an account (Accounts table). Never the balance, never the whole item."""

from __future__ import annotations

from codegateway.store.client import DynamoClient, all_pages, write_if
from codegateway.store.items import get_n, n, s
from codegateway.store.usage import rollup_range_query


class TierTable:
    def __init__(self, client: DynamoClient, accounts_table: str, usage_table: str) -> None:
        self._client = client
        self._accounts = accounts_table
        self._usage = usage_table

    def billed_spend_nano(self, account_id: str, first_day: str, last_day: str) -> int:
        """Sum of billed_nano over the account's daily rollups from first_day to last_day (inclusive,
        'YYYY-MM-DD'). One Query (more only past 1 MB, which 90 small rollups never reach)."""
        query = rollup_range_query(self._usage, account_id, first_day, last_day)
        # Only the one number: botocore's parsing, not the network, is the job's CPU cost per call.
        query["ProjectionExpression"] = "billed_nano"
        return sum(get_n(item, "billed_nano", 0) or 0 for item in all_pages(self._client.query, query))

    def update_tier(
        self, account_id: str, *, expected_spend_nano: int, expected_markup_bp: int, spend_90d_nano: int, markup_bp: int
    ) -> bool:
        """Set spend_90d_nano and markup_bp if they still hold the values the caller read. False when
        they do not (another run, or an admin, wrote first) or the account is gone: nothing is written.

        Only these two attributes are SET, so a balance change racing this write is never lost."""
        spend_matches = "spend_90d_nano = :expected_spend"
        if expected_spend_nano == 0:
            # Items written before spend_90d_nano existed read as 0.
            spend_matches = f"(attribute_not_exists(spend_90d_nano) OR {spend_matches})"
        return write_if(
            self._client.update_item,
            TableName=self._accounts,
            Key={"account_id": s(account_id)},
            UpdateExpression="SET spend_90d_nano = :spend, markup_bp = :markup",
            ConditionExpression="attribute_exists(balance_nano) AND markup_bp = :expected_markup AND " + spend_matches,
            ExpressionAttributeValues={
                ":spend": n(spend_90d_nano),
                ":markup": n(markup_bp),
                ":expected_spend": n(expected_spend_nano),
                ":expected_markup": n(expected_markup_bp),
            },
        )
