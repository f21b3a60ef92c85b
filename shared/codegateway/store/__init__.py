"""DynamoDB access: the only code that knows table layouts and talks to DynamoDB (botocore).

Callers import from here (`__all__`); the submodules' item layouts are the store's own."""

from __future__ import annotations

from dataclasses import dataclass

from codegateway.settings import Settings
from codegateway.store.accounts import AccountPage, AccountsTable, EmailTaken
from codegateway.store.api_keys import ApiKeysTable, KeyLimitReached
from codegateway.store.balance_upkeep import BalanceUpkeep
from codegateway.store.client import DynamoClient, build_dynamodb_client
from codegateway.store.cursors import decode_cursor, encode_cursor
from codegateway.store.dashboard_sessions import DashboardSession, DashboardSessionsTable
from codegateway.store.dynamodb_http import DynamoDBHttpClient
from codegateway.store.email_codes import EmailCodesTable, StoredCode
from codegateway.store.ledger import GrowthRefused, Ledger, ReservationRefused
from codegateway.store.pricing_catalogs import PricingCatalogs, StoredCatalog
from codegateway.store.rate_limits import RateLimitsTable
from codegateway.store.tiers import TierTable
from codegateway.store.topups import TopUpsTable
from codegateway.store.usage import DailyRollup, UsagePage, UsageTable

# What callers outside the store use; the modules' item layouts (to_item / from_item) are the store's own.
__all__ = [
    "AccountPage",
    "AccountsTable",
    "ApiKeysTable",
    "DailyRollup",
    "DashboardSession",
    "DashboardSessionsTable",
    "DynamoClient",
    "EmailCodesTable",
    "EmailTaken",
    "GrowthRefused",
    "KeyLimitReached",
    "Ledger",
    "PricingCatalogs",
    "RateLimitsTable",
    "ReservationRefused",
    "Store",
    "StoredCatalog",
    "StoredCode",
    "TierTable",
    "TopUpsTable",
    "UsagePage",
    "UsageTable",
    "build_dynamodb_client",
    "build_store",
    "decode_cursor",
    "encode_cursor",
]


@dataclass(frozen=True)
class Store:
    client: DynamoClient
    accounts: AccountsTable
    api_keys: ApiKeysTable
    usage: UsageTable
    ledger: Ledger
    balance_upkeep: BalanceUpkeep
    topups: TopUpsTable
    rate_limits: RateLimitsTable
    tiers: TierTable
    pricing_catalogs: PricingCatalogs
    email_codes: EmailCodesTable
    dashboard_sessions: DashboardSessionsTable


def build_store(settings: Settings, client: DynamoClient | None = None, *, loop_calls: bool = False) -> Store:
    """The tables on one client. With `loop_calls` (the proxy), the ledger's money movements, the key and
    account reads and the RPM count run on the event loop (store/dynamodb_loop.py) where the client is
    ours, not botocore's."""
    client = client or build_dynamodb_client(settings)
    loop_client = None
    if loop_calls and isinstance(client, DynamoDBHttpClient):
        # Imported here: what does not serve requests (the tier job, the admin API) never loads httptools.
        from codegateway.store.dynamodb_loop import DynamoDBLoopClient

        loop_client = DynamoDBLoopClient(client, max_connections=settings.io_threads)
    ledger = Ledger(client, settings.accounts_table, settings.usage_table, settings.usage_retention_days, loop_client)
    return Store(
        client=client,
        accounts=AccountsTable(client, settings.accounts_table, loop_client),
        api_keys=ApiKeysTable(client, settings.api_keys_table, loop_client),
        usage=UsageTable(client, settings.usage_table),
        ledger=ledger,
        balance_upkeep=BalanceUpkeep(client, settings.accounts_table, settings.usage_table, ledger),
        topups=TopUpsTable(client, settings.usage_table),
        rate_limits=RateLimitsTable(client, settings.rate_limits_table, loop_client),
        tiers=TierTable(client, settings.accounts_table, settings.usage_table),
        pricing_catalogs=PricingCatalogs(client, settings.usage_table),
        email_codes=EmailCodesTable(client, settings.rate_limits_table),
        dashboard_sessions=DashboardSessionsTable(client, settings.rate_limits_table),
    )
