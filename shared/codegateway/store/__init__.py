"""DynamoDB access: the only code that knows table layouts (and the only code importing boto3)."""

from __future__ import annotations

from dataclasses import dataclass

from codegateway.settings import Settings
from codegateway.store.accounts import AccountsTable, EmailTaken
from codegateway.store.api_keys import ApiKeysTable, KeyLimitReached
from codegateway.store.client import DynamoClient, build_dynamodb_client
from codegateway.store.dashboard_sessions import DashboardSessionsTable
from codegateway.store.email_codes import EmailCodesTable
from codegateway.store.ledger import GrowthRefused, Ledger, ReservationRefused
from codegateway.store.pricing_catalogs import PricingCatalogs
from codegateway.store.rate_limits import RateLimitsTable
from codegateway.store.tiers import TierTable
from codegateway.store.topups import TopUpsTable
from codegateway.store.usage import UsageTable

__all__ = ["EmailTaken", "GrowthRefused", "KeyLimitReached", "ReservationRefused", "Store", "build_store"]


@dataclass(frozen=True)
class Store:
    client: DynamoClient
    accounts: AccountsTable
    api_keys: ApiKeysTable
    usage: UsageTable
    ledger: Ledger
    topups: TopUpsTable
    rate_limits: RateLimitsTable
    tiers: TierTable
    pricing_catalogs: PricingCatalogs
    email_codes: EmailCodesTable
    dashboard_sessions: DashboardSessionsTable


def build_store(settings: Settings, client: DynamoClient | None = None) -> Store:
    client = client or build_dynamodb_client(settings)
    return Store(
        client=client,
        accounts=AccountsTable(client, settings.accounts_table),
        api_keys=ApiKeysTable(client, settings.api_keys_table),
        usage=UsageTable(client, settings.usage_table),
        ledger=Ledger(client, settings.accounts_table, settings.usage_table, settings.usage_retention_days),
        topups=TopUpsTable(client, settings.usage_table),
        rate_limits=RateLimitsTable(client, settings.rate_limits_table),
        tiers=TierTable(client, settings.accounts_table, settings.usage_table),
        pricing_catalogs=PricingCatalogs(client, settings.usage_table),
        email_codes=EmailCodesTable(client, settings.rate_limits_table),
        dashboard_sessions=DashboardSessionsTable(client, settings.rate_limits_table),
    )
