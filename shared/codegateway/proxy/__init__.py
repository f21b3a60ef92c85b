"""The request path: authenticate the caller, validate and admit the request (rate limit, hold),
send it upstream, relay the stream while metering it, settle. `runtime.build_gateway` wires it."""
