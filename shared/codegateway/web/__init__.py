"""The web layer: the only code that imports Starlette. Routes stay thin; logic lives in the flows."""
