#!/usr/bin/env python3
"""Full SAML logins against a running gateway: a signed SPID AuthnRequest (HTTP-Redirect) in, the card handshake
on a fresh TLS connection, consent, and the signed Response out. Prints JSON: rate, p50/p99 latency, failures.

usage: saml_logins.py PUBLIC_URL CARD_CERT CARD_KEY SP_KEY ENTITY_ID SECONDS CLIENTS
"""
import base64
import json
import re
import statistics
import sys
import threading
import time
import urllib.parse
import uuid
import warnings
import zlib
from datetime import datetime, timezone

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

warnings.filterwarnings("ignore")
public, card_cert, card_key, sp_key_path, entity, seconds, clients = sys.argv[1:8]
seconds, clients = float(seconds), int(clients)
sp_key = serialization.load_pem_private_key(open(sp_key_path, "rb").read(), password=None)
SIGALG = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def authn_request():
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    xml = (f'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
           f'ID="_{uuid.uuid4().hex}" Version="2.0" IssueInstant="{now}" Destination="{public}/saml/sso" ForceAuthn="true" '
           f'AssertionConsumerServiceIndex="1" AttributeConsumingServiceIndex="1">'
           f'<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity" NameQualifier="{entity}">{entity}</saml:Issuer>'
           '<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient"/>'
           '<samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>https://www.spid.gov.it/SpidL2</saml:AuthnContextClassRef>'
           '</samlp:RequestedAuthnContext></samlp:AuthnRequest>')
    deflated = zlib.compressobj(wbits=-15)
    data = deflated.compress(xml.encode()) + deflated.flush()
    q = "SAMLRequest=" + urllib.parse.quote(base64.b64encode(data).decode(), safe="") + "&RelayState=bench&SigAlg=" + urllib.parse.quote(SIGALG, safe="")
    signature = sp_key.sign(q.encode(), padding.PKCS1v15(), hashes.SHA256())
    return q + "&Signature=" + urllib.parse.quote(base64.b64encode(signature).decode(), safe="")


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
