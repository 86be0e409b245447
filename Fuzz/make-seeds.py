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

# --- PKI targets (crl, crl-index, certificate, ocsp) and request decoding (proxy-header, form) ---------------------
# The CRL and OCSP targets check what they parse against one issuer, whose certificate (public) is committed in
# Fuzz/Fixtures with the leaf the OCSP responses speak of; the keys that signed the seeds are made here and dropped,
# so no private key is committed. Seeds are signed, so an unmutated seed reaches the end of each parser.
import datetime
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa, ec
from cryptography.x509 import ocsp

FIXTURES = os.path.join(HERE, "Fixtures")
os.makedirs(FIXTURES, exist_ok=True)
now = datetime.datetime(2026, 12, 3, 12, 0, 0, tzinfo=datetime.timezone.utc)
ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ca_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "IT"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cnsgw fuzz"),
                     x509.NameAttribute(NameOID.COMMON_NAME, "cnsgw fuzz CA")])
ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key()).serial_number(1)
      .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
      .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
      .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
      .sign(ca_key, hashes.SHA256()))
leaf_key = ec.generate_private_key(ec.SECP256R1())
leaf_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "IT"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cnsgw fuzz"),
                       x509.NameAttribute(NameOID.SERIAL_NUMBER, "TINIT-RCCMNL83S18D969H"),
                       x509.NameAttribute(NameOID.COMMON_NAME, "RCCMNL83S18D969H/7420000000000001.abcdefghijklmnopqrstuvwx=")])
leaf = (x509.CertificateBuilder().subject_name(leaf_name).issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(0x1234567890ABCDEF)
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier("1.3.76.16.2.1"), None)]), critical=False)
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint([x509.UniformResourceIdentifier("http://127.0.0.1/ca.crl")], None, None, None)]), critical=False)
        .sign(ca_key, hashes.SHA256()))
open(os.path.join(FIXTURES, "issuer.pem"), "wb").write(ca.public_bytes(serialization.Encoding.PEM))
open(os.path.join(FIXTURES, "leaf.pem"), "wb").write(leaf.public_bytes(serialization.Encoding.PEM))


def crl(entries, number=1, extra=()):
    b = x509.CertificateRevocationListBuilder().issuer_name(ca_name).last_update(now).next_update(now + datetime.timedelta(days=1))
    b = b.add_extension(x509.CRLNumber(number), critical=False)
    for ext, critical in extra:
        b = b.add_extension(ext, critical=critical)
    for serial, reason in entries:
        r = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now - datetime.timedelta(hours=1))
        if reason is not None:
            r = r.add_extension(x509.CRLReason(reason), critical=False)
        b = b.add_revoked_certificate(r.build())
    return b.sign(ca_key, hashes.SHA256())


w("crl", "empty.der", crl([]).public_bytes(serialization.Encoding.DER))
w("crl", "entries.der", crl([(i * 7919 + 1, [None, x509.ReasonFlags.key_compromise, x509.ReasonFlags.superseded][i % 3]) for i in range(40)], 7).public_bytes(serialization.Encoding.DER))
w("crl", "idp.der", crl([(0x1234567890ABCDEF, x509.ReasonFlags.key_compromise)], 9,
                        [(x509.IssuingDistributionPoint([x509.UniformResourceIdentifier("http://127.0.0.1/ca.crl")], None, True, False, None, False, False), True),
                         (x509.DeltaCRLIndicator(8), True)]).public_bytes(serialization.Encoding.DER))
w("crl", "entries.pem", crl([(5, None), (6, x509.ReasonFlags.certificate_hold)]).public_bytes(serialization.Encoding.PEM))
# crl-index: serials, one per line in hex, as the index holds them.
w("crl-index", "serials.txt", "\n".join(format(i * 104729 + 3, "x") for i in range(64)))
w("crl-index", "zeros.txt", "00\n0000\n01\n0001\nff\n00ff")
w("certificate", "leaf.der", leaf.public_bytes(serialization.Encoding.DER))
w("certificate", "chain.pem", leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))


def ocsp_response(status, nonce=False, responder_hash=False):
    b = ocsp.OCSPResponseBuilder()
    if status == "revoked":
        b = b.add_response(leaf, ca, hashes.SHA1(), ocsp.OCSPCertStatus.REVOKED, now, now + datetime.timedelta(hours=1), now - datetime.timedelta(hours=2),
                           x509.ReasonFlags.key_compromise)
    else:
        b = b.add_response(leaf, ca, hashes.SHA1(), getattr(ocsp.OCSPCertStatus, status.upper()), now, now + datetime.timedelta(hours=1), None, None)
    b = b.responder_id(ocsp.OCSPResponderEncoding.HASH if responder_hash else ocsp.OCSPResponderEncoding.NAME, ca)
    if nonce:
        b = b.add_extension(x509.OCSPNonce(b"\x01" * 16), critical=False)
    return b.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


w("ocsp", "good.der", ocsp_response("good"))
w("ocsp", "revoked.der", ocsp_response("revoked", responder_hash=True))
w("ocsp", "unknown.der", ocsp_response("unknown", nonce=True))
w("ocsp", "trylater.der", ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER).public_bytes(serialization.Encoding.DER))
tsl = ('<tsl:TrustServiceStatusList xmlns:tsl="http://uri.etsi.org/02231/v2#" TSLTag="http://uri.etsi.org/19612/TSLTag">'
       '<tsl:SchemeInformation><tsl:TSLVersionIdentifier>5</tsl:TSLVersionIdentifier><tsl:TSLSequenceNumber>42</tsl:TSLSequenceNumber>'
       '<tsl:SchemeOperatorName><tsl:Name xml:lang="it">AgID</tsl:Name></tsl:SchemeOperatorName>'
       '<tsl:ListIssueDateTime>2026-11-01T00:00:00Z</tsl:ListIssueDateTime><tsl:NextUpdate><tsl:dateTime>2027-05-01T00:00:00Z</tsl:dateTime></tsl:NextUpdate>'
       '</tsl:SchemeInformation><tsl:TrustServiceProviderList><tsl:TrustServiceProvider><tsl:TSPInformation><tsl:TSPName><tsl:Name xml:lang="it">Fuzz CA</tsl:Name></tsl:TSPName></tsl:TSPInformation>'
       '<tsl:TSPServices><tsl:TSPService><tsl:ServiceInformation><tsl:ServiceTypeIdentifier>http://uri.etsi.org/TrstSvc/Svctype/IdV</tsl:ServiceTypeIdentifier>'
       '<tsl:ServiceName><tsl:Name xml:lang="it">CNS</tsl:Name></tsl:ServiceName><tsl:ServiceDigitalIdentity><tsl:DigitalId><tsl:X509Certificate>'
       + base64.b64encode(ca.public_bytes(serialization.Encoding.DER)).decode() +
       '</tsl:X509Certificate></tsl:DigitalId></tsl:ServiceDigitalIdentity><tsl:ServiceStatus>http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted</tsl:ServiceStatus>'
       '<tsl:StatusStartingTime>2020-01-01T00:00:00Z</tsl:StatusStartingTime></tsl:ServiceInformation></tsl:TSPService></tsl:TSPServices>'
       '</tsl:TrustServiceProvider></tsl:TrustServiceProviderList></tsl:TrustServiceStatusList>')
w("trusted-list", "list.xml", tsl)
pem = leaf.public_bytes(serialization.Encoding.PEM).decode()
# proxy-header: the first byte picks the format (0 rfc9440, 1 nginx, 2 apache), the rest is the header value
# (rfc9440: Client-Cert, then a newline and Client-Cert-Chain).
der64 = base64.b64encode(leaf.public_bytes(serialization.Encoding.DER)).decode()
w("proxy-header", "rfc9440.txt", "\x00:" + der64 + ":\n:" + base64.b64encode(ca.public_bytes(serialization.Encoding.DER)).decode() + ":")
w("proxy-header", "nginx.txt", "\x01" + urllib.parse.quote(pem, safe=""))
w("proxy-header", "apache.txt", "\x02" + pem.replace("\n", " "))
w("form", "consent.txt", "login=abc123&decision=allow&csrf=x%2By+z&lang=it")
w("form", "token.txt", "grant_type=authorization_code&code=c&redirect_uri=https%3A%2F%2Frp.example.it%2Fcb&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&code=d")
