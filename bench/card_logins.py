#!/usr/bin/env python3
"""Card logins per second against an HTTPS endpoint that asks for a client certificate.

Every request is a fresh TLS handshake (no session resumption) presenting the card's certificate, then one
GET; latency is the whole exchange. Usage:
  card_logins.py HOST PORT CERT KEY PATH SECONDS CONCURRENCY
PATH may be @FILE: one path per line, each used once (the card steps of pending logins made beforehand); the run
ends early when they are used up. Prints one JSON object: rate, p50_ms, p99_ms, ok, failed, unused, and the TLS
versions the handshakes settled on (tls), so that two servers are seen to be compared on the same protocol.
"""
import json
import socket
import ssl
import sys
import threading
import time

host, port, cert, key, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
seconds, concurrency = float(sys.argv[6]), int(sys.argv[7])

context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
context.load_cert_chain(cert, key)
paths = None
if path.startswith("@"):
    paths = [line.strip() for line in open(path[1:]) if line.strip()]
    paths.reverse()


def next_request():
    """The next request to send, or None when every pending login's card step is used."""
    target = path
    if paths is not None:
        with lock:
            if not paths:
                return None
            target = paths.pop()
    return f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()


latencies, failures, versions = [], [0], set()
lock = threading.Lock()
deadline = time.monotonic() + seconds


def read_response(tls):
    """Reads one response by its Content-Length, as a browser does; waiting for the server's close instead would
    measure TCP and TLS shutdown timing, not the login."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while length is not None and len(body) < length:
        chunk = tls.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def worker():
    mine, bad, seen = [], 0, set()
    while time.monotonic() < deadline:
        request = next_request()
        if request is None:
            break
        started = time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=10) as raw:
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # as browsers and curl do
                with context.wrap_socket(raw, server_hostname=host) as tls:
                    tls.sendall(request)
                    data = read_response(tls)
                    seen.add(tls.version())
            if data.startswith(b"HTTP/1.1 200"):
                mine.append(time.monotonic() - started)
            else:
                bad += 1
        except (OSError, ssl.SSLError):
            bad += 1
    with lock:
        latencies.extend(mine)
        failures[0] += bad
        versions.update(seen)


threads = [threading.Thread(target=worker) for _ in range(concurrency)]
begin = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - begin
latencies.sort()


def pct(p):
    return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2) if latencies else None


print(json.dumps({"rate": round(len(latencies) / elapsed, 1), "p50_ms": pct(0.50), "p99_ms": pct(0.99),
                  "ok": len(latencies), "failed": failures[0], "unused": len(paths) if paths is not None else None,
                  "tls": sorted(v for v in versions if v)}))
