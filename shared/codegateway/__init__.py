"""CodeGateway: a gateway between coding agents and the Anthropic API.

The package every function imports. Layers, from the top down (see README "Architecture"):
entry points (functions/*, cli) -> web (Starlette) -> flows (auth, admission, relay, settlement)
-> adapters (store: boto3, upstream: httpx) -> pure domain (keys, pricing, sse, usage) -> settings, errors.
"""

__version__ = "0.1.0"
