"""CodeGateway: a gateway between coding agents and the Anthropic API.

The package every function imports. Layers, from the top down (docs/architecture.md; the import
contracts in pyproject.toml check them): entry points (functions/*, cli) -> surfaces (web, admin_api, dev,
doctor) -> edge -> use-cases (proxy, accounts, tiering; independent of each other) -> openai_compat ->
store (boto3) -> settings -> pure domain -> errors.
"""

__version__ = "0.1.0"
