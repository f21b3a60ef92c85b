#!/bin/sh
# The proxy function's "handler": the Lambda Web Adapter (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap)
# runs this script, waits for GET /healthz, then relays Function URL invocations to it as HTTP,
# streaming the response (AWS_LWA_INVOKE_MODE=response_stream). Layers unpack into /opt/python.
export PYTHONPATH="/opt/python:${LAMBDA_TASK_ROOT}:${PYTHONPATH}"
exec python -m uvicorn --factory app:create_app \
  --host 127.0.0.1 --port "${AWS_LWA_PORT:-8080}" \
  --loop uvloop --http httptools --no-access-log --log-level warning \
  --timeout-keep-alive 75
