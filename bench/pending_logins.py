#!/usr/bin/env python3
"""Starts COUNT pending logins at a running gateway, as service providers' browsers do, and prints each one's card
step (the path and query the gateway redirects the browser to on the card listener), one per line. Each login is a
signed SPID AuthnRequest over HTTP-Redirect; the card step is then measured on its own (bench/card-logins.sh).

usage: pending_logins.py PUBLIC_URL SP_KEY ENTITY_ID COUNT [THREADS]
"""
import base64
import sys
import threading
import urllib.parse
import uuid
import warnings
import zlib
from datetime import datetime, timezone

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

warnings.filterwarnings("ignore")
public, sp_key_path, entity, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 4
sp_key = serialization.load_pem_private_key(open(sp_key_path, "rb").read(), password=None)
SIGALG = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def authn_request():
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    xml = (f'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
           f'ID="_{uuid.uuid4().hex}" Version="2.0" IssueInstant="{now}" Destination="{public}/saml/sso" '
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


steps, failures, lock = [], [0], threading.Lock()


def worker(n):
    session = requests.Session()
    for _ in range(n):
        r = session.get(f"{public}/saml/sso?{authn_request()}", verify=False, allow_redirects=False, timeout=20)
        location = r.headers.get("Location", "")
        with lock:
            if r.status_code in (302, 303) and "/login/card?" in location:
                parsed = urllib.parse.urlparse(location)
                steps.append(parsed.path + "?" + parsed.query)
            else:
                failures[0] += 1


workers = [threading.Thread(target=worker, args=(count // threads + (1 if i < count % threads else 0),)) for i in range(threads)]
for t in workers:
    t.start()
for t in workers:
    t.join()
if failures[0]:
    print(f"{failures[0]} of {count} logins could not be started", file=sys.stderr)
    sys.exit(1)
print("\n".join(steps))
