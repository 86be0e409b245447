"""A signed SPID AuthnRequest over HTTP-Redirect, as the benchmarks' service provider sends it (SpidL2 minimum,
ACS and attribute set 1). Shared by bench/saml_logins.py and bench/pending_logins.py."""
import base64
import urllib.parse
import uuid
import zlib
from datetime import datetime, timezone

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

SIGALG = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def load_key(path):
    return serialization.load_pem_private_key(open(path, "rb").read(), password=None)


def redirect_query(public, entity, key, force_authn=True):
    """The query string for `{public}/saml/sso`: SAMLRequest (DEFLATE, base64), RelayState, SigAlg, Signature."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    force = ' ForceAuthn="true"' if force_authn else ""
    xml = (f'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
           f'ID="_{uuid.uuid4().hex}" Version="2.0" IssueInstant="{now}" Destination="{public}/saml/sso"{force} '
           f'AssertionConsumerServiceIndex="1" AttributeConsumingServiceIndex="1">'
           f'<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity" NameQualifier="{entity}">{entity}</saml:Issuer>'
           '<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient"/>'
           '<samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>https://www.spid.gov.it/SpidL2</saml:AuthnContextClassRef>'
           '</samlp:RequestedAuthnContext></samlp:AuthnRequest>')
    deflated = zlib.compressobj(wbits=-15)
    data = deflated.compress(xml.encode()) + deflated.flush()
    q = "SAMLRequest=" + urllib.parse.quote(base64.b64encode(data).decode(), safe="") + "&RelayState=bench&SigAlg=" + urllib.parse.quote(SIGALG, safe="")
    signature = key.sign(q.encode(), padding.PKCS1v15(), hashes.SHA256())
    return q + "&Signature=" + urllib.parse.quote(base64.b64encode(signature).decode(), safe="")
