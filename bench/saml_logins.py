#!/usr/bin/env python3
"""Full SAML logins against a running gateway: a signed SPID AuthnRequest (HTTP-Redirect) in, the card handshake
on a fresh TLS connection, consent, and the signed Response out. Prints JSON: rate, p50/p99 latency, failures.

usage: saml_logins.py PUBLIC_URL CARD_CERT CARD_KEY SP_KEY ENTITY_ID SECONDS CLIENTS
"""
import json
import re
import sys
import threading
import time
import urllib.parse
import warnings

import requests

from spid_request import load_key, redirect_query

warnings.filterwarnings("ignore")
public, card_cert, card_key, sp_key_path, entity, seconds, clients = sys.argv[1:8]
seconds, clients = float(seconds), int(clients)
sp_key = load_key(sp_key_path)


def authn_request():
    return redirect_query(public, entity, sp_key)


latencies, failures, lock = [], [0], threading.Lock()
deadline = time.monotonic() + seconds


def worker():
    public_session = requests.Session()
    while time.monotonic() < deadline:
        started = time.monotonic()
        ok = False
        try:
            r = public_session.get(f"{public}/saml/sso?{authn_request()}", verify=False, allow_redirects=False, timeout=20)
            card_url = r.headers["Location"]
            with requests.Session() as card:   # a fresh TLS connection: the card signs a new handshake
                r = card.get(card_url, cert=(card_cert, card_key), verify=False, allow_redirects=False, timeout=20)
                login = urllib.parse.parse_qs(urllib.parse.urlparse(card_url).query)["login"][0]
                token = re.search(r'name="token" value="([^"]*)"', r.text)
                r = card.post(urllib.parse.urljoin(card_url, "/login/consent"), data={"login": login, "decision": "approve",
                                                                                      "token": token.group(1) if token else ""},
                              cert=(card_cert, card_key), verify=False, allow_redirects=False, timeout=20)
            r = public_session.get(r.headers["Location"], verify=False, allow_redirects=False, timeout=20)
            ok = r.status_code == 200 and 'name="SAMLResponse"' in r.text
        except Exception:
            ok = False
        elapsed = time.monotonic() - started
        with lock:
            if ok:
                latencies.append(elapsed)
            else:
                failures[0] += 1


threads = [threading.Thread(target=worker) for _ in range(clients)]
begin = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
total = time.monotonic() - begin
latencies.sort()
p = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1) if latencies else None
print(json.dumps({"rate": round(len(latencies) / total, 1), "p50_ms": p(0.5), "p99_ms": p(0.99), "ok": len(latencies), "failed": failures[0]}))
