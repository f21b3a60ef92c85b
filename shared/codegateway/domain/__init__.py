"""The pure core: records, keys, money, prices and their catalog, the hold estimate, tiers, spend-cap
rules, message validation and SSE framing. No I/O and no settings; everything else builds on this."""
