"""The admin API: a FastAPI app (run by Mangum in the admin function, behind an IAM-authenticated
Function URL). Routes stay thin: each parses, calls a use-case, and shapes the answer with views."""
