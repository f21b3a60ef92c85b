"""The scheduled job: recompute every account's markup from its rolling 90-day spend, sweep expired
holds and reconcile available balances."""
