"""Which headers cross the gateway in each direction."""

from __future__ import annotations

from codegateway.proxy.upstream import client_response_headers, upstream_request_headers


def test_client_credentials_and_hop_by_hop_headers_never_go_upstream() -> None:
    sent = upstream_request_headers(
        [
            (b"x-api-key", b"sk-cg-client"),
            (b"authorization", b"Bearer sk-cg-client"),
            (b"connection", b"keep-alive"),
            (b"host", b"gateway.example"),
            (b"x-forwarded-for", b"203.0.113.9"),
            (b"x-amzn-trace-id", b"Root=1"),
            (b"cloudfront-viewer-country", b"DE"),
            (b"x-cgw-origin-verify", b"edge-secret"),
            (b"anthropic-beta", b"a,b"),
            (b"anthropic-version", b"2023-06-01"),
            (b"x-claude-code-session-id", b"s-1"),
            (b"user-agent", b"claude-cli/2.1.197"),
        ],
        "sk-ant-upstream",
    )
    names = [name for name, _ in sent]
    assert dict(sent)[b"x-api-key"] == b"sk-ant-upstream"
    assert names.count(b"x-api-key") == 1
    for dropped in (
        b"authorization",
        b"connection",
        b"host",
        b"x-forwarded-for",
        b"x-amzn-trace-id",
        b"cloudfront-viewer-country",
        b"x-cgw-origin-verify",
    ):
        assert dropped not in names
    for kept in (b"anthropic-beta", b"anthropic-version", b"x-claude-code-session-id", b"user-agent"):
        assert kept in names
    assert dict(sent)[b"accept-encoding"] == b"identity"


def test_upstream_request_id_is_kept_under_its_own_name() -> None:
    back = client_response_headers(
        [
            (b"Request-Id", b"req_011"),
            (b"Content-Length", b"10"),
            (b"retry-after", b"3"),
            (b"x-should-retry", b"true"),
            (b"anthropic-ratelimit-unified-status", b"allowed"),
            (b"Transfer-Encoding", b"chunked"),
        ]
    )
    assert dict(back) == {
        b"upstream-request-id": b"req_011",
        b"retry-after": b"3",
        b"x-should-retry": b"true",
        b"anthropic-ratelimit-unified-status": b"allowed",
    }
