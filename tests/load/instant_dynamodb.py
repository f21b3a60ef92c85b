"""python -m tests.load.instant_dynamodb MOTO_URL PORT: a DynamoDB stand-in that answers every
TransactWriteItems at once with success (applying nothing) and relays every other call to moto.

For `make profile` only. moto spends about 2 ms of CPU on each transaction, on the same two cores as
the proxy, and the proxy's CPU per request rises with it (caches, wake-ups). The real DynamoDB runs on
other machines. A proxy pointed here still signs, sends and parses both of its transactions per
request, so its CPU is what the DynamoDB calls cost the gateway itself; moto's share is the difference
to the proxy on moto. Balances do not move, which a CPU measurement does not need.
"""

from __future__ import annotations

import asyncio
import http.client
import sys
from urllib.parse import urlsplit

_WRITE_TARGET = b"DynamoDB_20120810.TransactWriteItems"
_SUCCESS = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}"


def _relay(moto: tuple[str, int], head: bytes, body: bytes) -> bytes:
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = dict(line.split(": ", 1) for line in lines if line)
    connection = http.client.HTTPConnection(*moto, timeout=10)
    try:
        connection.request(method, target, body, headers)
        answer = connection.getresponse()
        data = answer.read()
        kept = [
            f"{name}: {value}"
            for name, value in answer.getheaders()
            if name.lower() in ("content-type", "x-amz-crc32", "x-amzn-requestid")
        ]
    finally:
        connection.close()
    head_lines = [f"HTTP/1.1 {answer.status} {answer.reason}", *kept, f"Content-Length: {len(data)}"]
    return ("\r\n".join(head_lines) + "\r\n\r\n").encode("latin-1") + data


async def _serve(moto: tuple[str, int], reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            body = await reader.readexactly(length)
            if _WRITE_TARGET in head:
                writer.write(_SUCCESS)
            else:
                writer.write(await asyncio.to_thread(_relay, moto, head, body))
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(moto_url: str, port: int) -> None:
    parts = urlsplit(moto_url)
    moto = (parts.hostname or "127.0.0.1", parts.port or 80)
    server = await asyncio.start_server(lambda r, w: _serve(moto, r, w), "127.0.0.1", port)
    print("ready", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
