"""Use-cases that admins (admin API, `cgw`) and key holders (self-service, dashboard) both call:
accounts and credit, keys, spend caps, prices, usage queries, sign-up by email, and how each is shown."""
