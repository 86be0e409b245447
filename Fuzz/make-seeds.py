"""Writes the fuzz targets' seed corpora (Fuzz/Corpus/TARGET/): small, well-formed examples of each input, made
from the shapes the tests use. Committed with its output; run again to regenerate."""
import base64, json, os, zlib, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


def w(target, name, data):
    folder = os.path.join(HERE, "Corpus", target)
    os.makedirs(folder, exist_ok=True)
    open(os.path.join(folder, name), "wb").write(data if isinstance(data, bytes) else data.encode())


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def deflate(s):
    return zlib.compress(s.encode(), 9)[2:-4]


w("json", "request-object.json", json.dumps({"iss": "https://rp.example.it", "aud": ["https://op.example.it"], "scope": "openid",
    "claims": {"userinfo": {"https://attributes.eid.gov.it/fiscal_number": None, "given_name": {"essential": True}}},
    "iat": 1796000000, "exp": 1796000060, "nested": [1, 2.5, -3e10, True, False, None, "\u00e8\\n\"x\""]}))
w("json", "jwks.json", json.dumps({"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "n": "AQAB", "e": "AQAB"},
                                           {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}))
w("json", "deep.json", '{"a":' * 20 + "1" + "}" * 20)
w("base64url", "a.txt", "eyJhbGciOiJSUzI1NiJ9")
w("base64url", "b.txt", "AQAB-_x")
payload = b64u(json.dumps({"iss": "x", "sub": "y", "exp": 1}).encode())
w("jws", "es256.txt", b64u(json.dumps({"alg": "ES256", "kid": "fuzz", "typ": "JWT"}).encode()) + "." + payload + "." + b64u(bytes(64)))
w("jws", "none.txt", b64u(json.dumps({"alg": "none"}).encode()) + "." + payload + ".")
w("jws", "crit.txt", b64u(json.dumps({"alg": "RS256", "crit": ["x"]}).encode()) + "." + payload + "." + b64u(bytes(256)))
header = b64u(json.dumps({"alg": "RSA-OAEP-256", "enc": "A256CBC-HS512", "kid": "fuzz-enc", "cty": "JWT"}).encode())
w("jwe", "oaep.txt", ".".join([header, b64u(bytes(256)), b64u(bytes(16)), b64u(bytes(48)), b64u(bytes(32))]))
authn = ('<?xml version="1.0" encoding="UTF-8"?><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
         'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1b2c3" Version="2.0" IssueInstant="2026-12-03T17:00:00Z" '
         'Destination="https://idp.example.it/saml/sso" ForceAuthn="true" AssertionConsumerServiceIndex="0" AttributeConsumingServiceIndex="0">'
         '<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity" NameQualifier="https://sp.example.it/sp">https://sp.example.it/sp</saml:Issuer>'
         '<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient"/>'
         '<samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>https://www.spid.gov.it/SpidL2</saml:AuthnContextClassRef>'
         '</samlp:RequestedAuthnContext></samlp:AuthnRequest>')
logout = ('<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
          'ID="_l1" Version="2.0" IssueInstant="2026-12-03T17:00:00Z" Destination="https://idp.example.it/saml/slo">'
          '<saml:Issuer>https://sp.example.it/sp</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">_n</saml:NameID>'
          '<samlp:SessionIndex>_s</samlp:SessionIndex></samlp:LogoutRequest>')
q = lambda s: urllib.parse.quote(s, safe="")
w("saml-redirect", "authn.txt", "SAMLRequest=" + q(base64.b64encode(deflate(authn)).decode()) + "&RelayState=rs1&SigAlg="
  + q("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256") + "&Signature=" + q(base64.b64encode(bytes(256)).decode()))
w("saml-redirect", "logout.txt", "SAMLRequest=" + q(base64.b64encode(deflate(logout)).decode()))
w("saml-post", "authn.txt", base64.b64encode(authn.encode()).decode())
w("saml-post-xml", "authn.xml", authn)
w("saml-post-xml", "logout.xml", logout)
w("saml-post-xml", "doctype.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>')
for i, t in enumerate(["2026-12-03T17:00:00Z", "2026-12-03T17:00:00.123456Z", "2026-12-03T17:00:00+01:00", "PT1H30M", "P1DT2H"]):
    w("saml-time", f"t{i}.txt", t)
metadata = ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://sp.example.it/sp">'
            '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="true" WantAssertionsSigned="true">'
            '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIIB</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
            '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.it/slo"/>'
            '<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>'
            '<md:AssertionConsumerService index="0" isDefault="true" Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.it/acs"/>'
            '<md:AttributeConsumingService index="0"><md:ServiceName xml:lang="it">Servizio</md:ServiceName><md:RequestedAttribute Name="fiscalNumber"/>'
            '</md:AttributeConsumingService></md:SPSSODescriptor><md:Organization><md:OrganizationName xml:lang="it">Comune</md:OrganizationName>'
            '<md:OrganizationDisplayName xml:lang="it">Comune</md:OrganizationDisplayName><md:OrganizationURL xml:lang="it">https://sp.example.it</md:OrganizationURL>'
            '</md:Organization></md:EntityDescriptor>')
w("saml-metadata", "sp.xml", metadata)
w("inflate", "authn.bin", deflate(authn))
