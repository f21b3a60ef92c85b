"""The troubleshooting dictionary: each symptom Claude Code users meet, in the words the fix is given in.
The troubleshooting table in docs/doctor.md is this file, with the check that detects each row."""

from __future__ import annotations

NO_BASE_URL = (
    "Claude Code talks to api.anthropic.com unless ANTHROPIC_BASE_URL is set: "
    "export ANTHROPIC_BASE_URL=https://<your gateway> (no path, no trailing slash)."
)
NO_KEY = "Set ANTHROPIC_API_KEY to your CodeGateway key (sk-cg-...), or pass --key."
BOTH_KEYS = (
    "Claude Code sends both; the gateway reads x-api-key (ANTHROPIC_API_KEY) first. "
    "Unset the one you do not mean (usually ANTHROPIC_AUTH_TOKEN)."
)
KEY_WHITESPACE = (
    "The key has spaces or a newline around it (a copy-paste or a quoted heredoc): "
    'export ANTHROPIC_API_KEY="$(printf %s "$ANTHROPIC_API_KEY" | tr -d "[:space:]")".'
)
NOT_A_GATEWAY_KEY = (
    "CodeGateway keys look like sk-cg-<16 hex>_<secret>; an sk-ant-... key is for api.anthropic.com "
    "and the gateway answers it with 401. Use the key your gateway administrator gave you."
)
BASE_URL_PATH = (
    "Give the gateway's origin only (https://host[:port]): Claude Code and the SDKs append /v1/messages "
    "themselves, so a path (/v1, /api) makes them call /v1/v1/messages (404), and a trailing slash gives "
    "some clients //v1/messages."
)
PLAIN_HTTP = (
    "Plain http:// to another machine sends the key in clear text and middleboxes rewrite it: "
    "use the gateway's https:// URL (http:// is only for a gateway on this machine)."
)
UNKNOWN_MODEL_422 = (
    "422 invalid_request_error: the gateway does not serve this model id. Set ANTHROPIC_MODEL to an id "
    "from GET /v1/models (dashes, not dots: claude-sonnet-4-6, not claude-sonnet-4.6)."
)
PROXY_FOR_LOOPBACK = (
    "HTTPS_PROXY / HTTP_PROXY is set and NO_PROXY does not cover the gateway's host, so Claude Code sends "
    "the gateway's traffic through the proxy: add the host to NO_PROXY (e.g. NO_PROXY=localhost,127.0.0.1)."
)
PROXY_IN_PATH = (
    "Traffic to the gateway goes through the proxy in HTTPS_PROXY: if connections reset after 30-60 s idle "
    "or TLS fails, the proxy is the first suspect (add the gateway's host to NO_PROXY to bypass it)."
)
DNS_FAILED = "The gateway's host name does not resolve: check the URL's spelling, your VPN and /etc/resolv.conf."
CONNECT_REFUSED = (
    "ECONNREFUSED: nothing listens at that host and port. Is the gateway running (make run) and the port right?"
)
CONNECT_TIMEOUT = (
    "ETIMEDOUT on connect: a firewall drops the packets or the host is down. Check the URL, the VPN, "
    "and whether the network needs HTTPS_PROXY."
)
SLOW_CONNECT = "Connecting takes long: a distant region, a VPN hairpin or packet loss. Expect slow first bytes."
TLS_WRONG_VERSION = (
    "TLS `wrong version number`: the port does not speak TLS. Use http:// for a plain-HTTP gateway "
    "(a local one), or the gateway's HTTPS endpoint; a proxy that wants CONNECT answers the same way."
)
TLS_OLD_VERSION = (
    "The connection negotiated TLS 1.2 or older although the gateway's edge offers TLS 1.3: something "
    "between you and it (a TLS-inspecting proxy) re-terminates TLS. Node refuses anything under TLS 1.2."
)
TLS_UNTRUSTED = (
    "`unable to verify the first certificate` / `self-signed certificate in certificate chain`: a corporate "
    "TLS-interception proxy re-signs traffic with its own CA. Export that CA as PEM and set "
    "NODE_EXTRA_CA_CERTS=/path/to/corp-ca.pem (Claude Code is Node: it ignores the system store)."
)
TLS_EXTRA_CA_UNUSABLE = (
    "NODE_EXTRA_CA_CERTS is set but the chain still does not verify with it: the file must be the PEM of the "
    "CA that signs the proxy's certificates (ask IT for it, or read it with openssl s_client -showcerts)."
)
TLS_HOSTNAME = "The certificate is valid but not for this host name: use the host name the gateway is served under."
REDIRECT = (
    "Claude Code treats any redirect as a failure: set ANTHROPIC_BASE_URL to the URL the redirect points at "
    "(https://, the right host, no path)."
)
NOT_A_GATEWAY = "The host answers, but not as a CodeGateway: check ANTHROPIC_BASE_URL."
WRONG_KEY_401 = (
    "401 authentication_error: the gateway does not know this key (wrong, revoked or rotated). Set "
    "ANTHROPIC_API_KEY to your current sk-cg-... key; `cgw keys list` shows an account's keys."
)
SUSPENDED_403 = "403 permission_error: the account is suspended. Contact your gateway administrator."
BALANCE_402 = (
    "402 billing_error: the balance cannot cover a request. Ask your gateway administrator to top up the "
    "account (cgw topup ACCOUNT_ID AMOUNT_USD), then retry."
)
LOW_BALANCE = "The balance is low: a long agent session can spend it. Ask for a top-up before it runs out (402)."
RATE_LIMIT_429 = (
    "429 rate_limit_error: the key is near its requests-per-minute cap. Claude Code waits out retry-after; "
    "for parallel agents ask for a higher rpm_limit or use one key per agent."
)
TRANSIENT_5XX = (
    "502/503: a transient failure at the gateway or the Anthropic API; retry. If it persists, tell the operator."
)
SLOW_FIRST_BYTE = (
    "ETIMEDOUT / a slow first byte: the path to the gateway is slow before any token flows (a VPN, a "
    "proxy buffering streams, a far region). Bypass buffering proxies for the gateway (NO_PROXY)."
)
NO_DIAGNOSTICS = "The gateway has no diagnostics endpoint (an older CodeGateway, or not one): update it."
STREAM_BUFFERED = (
    "The stream arrived in one piece: a proxy on the way buffers server-sent events, so Claude Code sees "
    "no progress and keepalive pings never reach it. Bypass the proxy for the gateway (NO_PROXY)."
)
ECONNRESET_IDLE = (
    "ECONNRESET / `socket hang up` mid-task: something between you and the gateway (a corporate proxy, VPN, "
    "NAT or load balancer) cuts connections idle for 30-60 s and drops the gateway's pings. Bypass it for the "
    "gateway's host (NO_PROXY) or have its idle timeout raised above 120 s."
)
LOGIN_LOOP = (
    "The /login loop: Claude Code holds a claude.ai login from before the gateway and prefers it to "
    "ANTHROPIC_API_KEY. Run `claude /logout` (or delete ~/.claude/.credentials.json), then start claude again."
)
KEY_REJECTED = (
    "Claude Code was once told not to use this key (customApiKeyResponses.rejected in ~/.claude.json), so it "
    "keeps asking you to /login. Remove the key's entry from that list, or run `claude /logout` and start again."
)
