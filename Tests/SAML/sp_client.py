#!/usr/bin/env python3
"""Real SAML service providers (pysaml2, python3-saml) against the gateway, for the end-to-end tests.

  sp_client.py metadata --lib LIB --entity-id E --acs URL --key K --cert C [--spid]   SP metadata on stdout
  sp_client.py login --lib LIB --entity-id E --acs URL --key K --cert C --idp-metadata URL
                     --binding redirect|post --card-cert P --card-key K [--level SpidL2] [--tamper WHAT]
      sends a signed AuthnRequest, logs in through the card listener with the test card, consents, and validates
      the Response with the library's own code. Prints one JSON object: what the SP saw, or the refusal.
"""
import argparse
import base64
import html.parser
import json
import sys
import time
import urllib.parse
import warnings

import requests

warnings.filterwarnings("ignore")
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"


class FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        if tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")


def form(text):
    p = FormParser()
    p.feed(text)
    return p.action, p.fields


def pysaml2_config(args, idp_metadata_file=None):
    from saml2 import BINDING_HTTP_POST
    conf = {
        "entityid": args.entity_id, "key_file": args.key, "cert_file": args.cert, "xmlsec_binary": "/usr/bin/xmlsec1",
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(args.acs, BINDING_HTTP_POST)],
                          "single_logout_service": [(args.acs.rsplit("/", 1)[0] + "/slo", BINDING_HTTP_POST)]},
            "authn_requests_signed": True, "want_assertions_signed": True,
            "name_id_format": TRANSIENT, "allow_unsolicited": False, "allow_unknown_attributes": True,
            "required_attributes": ["fiscalNumber", "name", "familyName", "dateOfBirth"],
        }},
        "accepted_time_diff": 60,
    }
    if not getattr(args, "pysaml2_defaults", False):   # else pysaml2's own default: the Response must be signed too
        conf["service"]["sp"]["want_response_signed"] = False
    if idp_metadata_file:
        conf["metadata"] = {"local": [idp_metadata_file]}
    return conf


def metadata(args):
    if args.lib == "pysaml2":
        from saml2.config import SPConfig
        from saml2.metadata import entity_descriptor
        ed = entity_descriptor(SPConfig().load(pysaml2_config(args)))
        text = str(ed)
        if args.spid:   # SPID attribute names (basic format), and the SPID contact extensions that mark an SPID SP
            import re
            requested = "".join(f'<ns0:RequestedAttribute Name="{n}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic" />'
                                for n in ["fiscalNumber", "name", "familyName", "dateOfBirth"])
            text = re.sub(r"(<ns0:RequestedAttribute [^>]*/>)+", requested, text)
            text = text.replace("</ns0:EntityDescriptor>",
                '<ns0:ContactPerson contactType="other"><ns0:Extensions xmlns:spid="https://spid.gov.it/saml-extensions">'
                "<spid:IPACode>c_test</spid:IPACode><spid:Public/></ns0:Extensions>"
                "<ns0:EmailAddress>tech@example.it</ns0:EmailAddress></ns0:ContactPerson></ns0:EntityDescriptor>")
        print(text)
    else:
        from onelogin.saml2.settings import OneLogin_Saml2_Settings
        s = OneLogin_Saml2_Settings(onelogin_settings(args, None), sp_validation_only=True)
        print(s.get_sp_metadata().decode())


def onelogin_settings(args, idp):
    from onelogin.saml2.constants import OneLogin_Saml2_Constants as K
    settings = {"strict": True, "debug": False,
                "sp": {"entityId": args.entity_id, "assertionConsumerService": {"url": args.acs, "binding": K.BINDING_HTTP_POST},
                       "NameIDFormat": TRANSIENT, "x509cert": open(args.cert).read(), "privateKey": open(args.key).read()},
                "security": {"authnRequestsSigned": True, "wantAssertionsSigned": True, "wantMessagesSigned": False,
                             "signatureAlgorithm": K.RSA_SHA256, "digestAlgorithm": K.SHA256, "rejectDeprecatedAlgorithm": True,
                             "requestedAuthnContext": False, "wantNameId": True, "wantAssertionsEncrypted": bool(args.encrypted)}}
    if idp is not None:
        from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser as P
        settings = P.merge_settings(settings, idp)
    return settings


def back_to_service(page):
    """The failure page's link back to the service (the gateway's continuation), if it has one."""
    import re
    m = re.search(r'href="([^"]+/saml/continue[^"]*)"', page)
    return html.unescape(m.group(1)) if m else None


def consent_token(page):
    """The consent form's anti-forgery token."""
    import re
    m = re.search(r'name="token" value="([^"]*)"', page)
    return html.unescape(m.group(1)) if m else ""


def card_steps(args, location, session):
    """Follows the gateway's redirect to the card listener, consents (or denies), and returns the SAMLResponse form;
    a refused card's page leads back to the service, which answers with the SPID error."""
    cert = (args.card_cert, args.card_key)
    if args.wait_before_card:   # the citizen takes longer than the login's lifetime
        time.sleep(args.wait_before_card)
    r = session.get(location, cert=cert, verify=False, allow_redirects=False)
    if 'value="approve"' in r.text:
        login = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["login"][0]
        decision = "deny" if args.deny else "approve"
        r = session.post(urllib.parse.urljoin(location, "/login/consent"), data={"login": login, "decision": decision, "token": consent_token(r.text)}, cert=cert,
                         verify=False, allow_redirects=False)
    if r.status_code == 303:
        r = session.get(r.headers["Location"], verify=False, allow_redirects=False)
    else:
        back = back_to_service(r.text)
        if not back:
            return None, {"stage": "card", "status": r.status_code, "body": r.text[-600:]}
        r = session.get(back, verify=False, allow_redirects=False)
    action, fields = form(r.text)
    if "SAMLResponse" not in fields:
        return None, {"stage": "continue", "status": r.status_code, "body": r.text[-600:]}
    return (action, fields), None


def send(args, session, url, binding, data_or_location):
    if binding == "redirect":
        return session.get(data_or_location, verify=False, allow_redirects=False)
    return session.post(url, data=data_or_location, verify=False, allow_redirects=False)


def outcome_of_gateway(r):
    """The gateway's answer to the request: a redirect to the card listener, an error Response form, or a page."""
    if r.status_code == 303:
        return "redirect", r.headers["Location"]
    action, fields = form(r.text)
    if "SAMLResponse" in fields:
        return "response", (action, fields)
    return "page", {"status": r.status_code, "body": r.text[-800:]}


def pysaml2_client(args, session):
    from saml2.client import Saml2Client
    from saml2.config import SPConfig
    md = session.get(args.idp_metadata, verify=False).text
    path = args.key + "." + args.entity_id.replace("/", "_").replace(":", "") + ".idp.xml"
    open(path, "w").write(md)
    return Saml2Client(config=SPConfig().load(pysaml2_config(args, path)))


def login_pysaml2(args, sp=None, session=None, keep=None):
    import saml2
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.saml import AuthnContextClassRef, Issuer, NAMEID_FORMAT_ENTITY
    from saml2.samlp import NameIDPolicy, RequestedAuthnContext
    session = session or requests.Session()
    sp = sp or pysaml2_client(args, session)
    idp_entity = list(sp.metadata.keys())[0]
    binding = BINDING_HTTP_REDIRECT if args.binding == "redirect" else BINDING_HTTP_POST
    sso = sp.metadata.single_sign_on_service(idp_entity, binding)[0]["location"]
    # The SPID shape: Issuer with Format and NameQualifier, transient NameIDPolicy without AllowCreate, one
    # AuthnContextClassRef, ACS and attribute set by index, ForceAuthn above SpidL1.
    req_id, req = sp.create_authn_request(sso, binding=BINDING_HTTP_POST, sign=False,
                                          requested_authn_context=RequestedAuthnContext(
                                              authn_context_class_ref=[AuthnContextClassRef(text="https://www.spid.gov.it/" + args.level)],
                                              comparison="minimum"),
                                          force_authn="true" if args.level != "SpidL1" else None,
                                          attribute_consuming_service_index="1", assertion_consumer_service_index="1")
    req.name_id_policy = NameIDPolicy(format=TRANSIENT)
    req.issuer = Issuer(text=args.entity_id, format=NAMEID_FORMAT_ENTITY, name_qualifier=args.entity_id)
    req.assertion_consumer_service_url = None
    req.protocol_binding = None
    if args.tamper == "acs-url":
        req.assertion_consumer_service_index = None
        req.assertion_consumer_service_url = "https://evil.example.org/acs"
    if args.tamper == "destination":
        req.destination = "https://elsewhere.example.org/sso"
    if args.tamper == "issue-instant":
        req.issue_instant = "2020-01-01T00:00:00Z"
    # One malformed request per row of the SPID error table (the gateway answers each with a signed error Response).
    if args.tamper == "no-acs":
        req.assertion_consumer_service_index = None
    if args.tamper == "acs-url-no-binding":
        req.assertion_consumer_service_index = None
        req.assertion_consumer_service_url = args.acs
    if args.tamper == "no-comparison":
        req.requested_authn_context.comparison = None
    if args.tamper == "attribute-index":
        req.attribute_consuming_service_index = "9"
    if args.tamper == "name-id-persistent":
        req.name_id_policy = NameIDPolicy(format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
    if args.tamper == "is-passive":
        req.is_passive = "true"
    if args.tamper == "version":
        req.version = "1.1"
    if args.tamper == "force-authn-word":
        req.force_authn = "yes"
    relay = "rs-" + req_id[-8:]
    sigalg = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    if binding == BINDING_HTTP_REDIRECT:
        info = sp.apply_binding(binding, str(req), sso, relay_state=relay, sign=args.tamper != "unsigned", sigalg=sigalg)
        location = dict(info["headers"])["Location"]
        if args.mode == "authn-url":   # the signed request only, for a test that sends it itself
            return {"url": location}
        if args.tamper == "relay-state":
            location = location.replace("RelayState=" + relay, "RelayState=other")
        r = session.get(location, verify=False, allow_redirects=False)
        if args.tamper == "replay":
            r = session.get(location, verify=False, allow_redirects=False)
    else:
        signed = str(req) if args.tamper == "unsigned" else sp.sign(req, sign_alg=sigalg, digest_alg="http://www.w3.org/2001/04/xmlenc#sha256")
        if args.tamper == "after-signing":
            signed = signed.replace('AttributeConsumingServiceIndex="1"', 'AttributeConsumingServiceIndex="7"')
        body = {"SAMLRequest": base64.b64encode(signed.encode()).decode(), "RelayState": relay}
        r = session.post(sso, data=body, verify=False, allow_redirects=False)
        if args.tamper == "replay":
            r = session.post(sso, data=body, verify=False, allow_redirects=False)
    kind, value = outcome_of_gateway(r)
    if kind == "page":
        return {"refused": "page", **value}
    if kind == "response":
        action, fields = value
    else:
        steps, problem = card_steps(args, value, session)
        if problem:
            return {"refused": "flow", **problem}
        action, fields = steps
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    result = {"action": action, "relay_state": fields.get("RelayState"), "relay_sent": relay}
    try:
        resp = sp.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={req_id: "/"})
    except Exception as e:   # an error Response raises with its status
        result.update({"error": type(e).__name__, "message": str(e)[:300], "status_xml": xml[xml.find("<samlp:Status"):xml.find("</samlp:Status>") + 15]})
        result.update(status_tree(xml))
        return result
    # The verified assertion's attributes as pysaml2 parsed them (its `ava` maps only names in its converters).
    raw = {a.name: [v.text for v in a.attribute_value] for st in resp.assertion.attribute_statement for a in st.attribute}
    if keep is not None:
        keep.append(resp)
    if args.logout:   # SP-initiated single logout of the session just opened
        result["logout"] = logout_spid(sp, resp, session) if args.logout_spid else logout_pysaml2(sp, resp, session)
    result.update({"name_id": resp.name_id.text, "name_id_format": resp.name_id.format, "attributes": raw,
                   "authn_context": resp.authn_info()[0][0], "in_response_to": resp.in_response_to, "issuer": resp.issuer(),
                   "session_index": resp.assertion.authn_statement[0].session_index, "response_signed": "<ds:Signature" in xml.split("<saml:Assertion")[0]})
    return result


def status_tree(xml):
    """The Response's status tree and addressing, read with XPath (ElementTree's subset)."""
    import xml.etree.ElementTree as ET
    ns = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "ds": "http://www.w3.org/2000/09/xmldsig#"}
    root = ET.fromstring(xml)
    top = root.find("./samlp:Status/samlp:StatusCode", ns)
    subs = root.findall("./samlp:Status/samlp:StatusCode/samlp:StatusCode", ns)
    message = root.find("./samlp:Status/samlp:StatusMessage", ns)
    return {"status": top.get("Value") if top is not None else None, "sub_statuses": [s.get("Value") for s in subs],
            "status_message": message.text if message is not None else None, "destination": root.get("Destination"),
            "in_response_to": root.get("InResponseTo"), "response_signature": root.find("./ds:Signature", ns) is not None}


def logout_spid(sp, resp, session):
    """A LogoutRequest as SPID SPs built on pysaml2 (djangosaml2-spid) send it: signed, HTTP-POST, Destination the
    IdP's entityID, Issuer with Format and NameQualifier, and an empty SessionIndex after an SpidL2/L3 login."""
    from saml2 import BINDING_HTTP_POST
    from saml2.saml import Issuer, NAMEID_FORMAT_ENTITY
    from saml2.samlp import SessionIndex
    idp = resp.issuer()
    slo = sp.metadata.single_logout_service(idp, BINDING_HTTP_POST, "idpsso")[0]["location"]
    _, req = sp.create_logout_request(idp, idp, name_id=resp.name_id, sign=False)
    req.issuer = Issuer(text=sp.config.entityid, format=NAMEID_FORMAT_ENTITY, name_qualifier=sp.config.entityid)
    req.session_index = [SessionIndex(text="")]
    signed = sp.sign(req, sign_alg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", digest_alg="http://www.w3.org/2001/04/xmlenc#sha256")
    r = session.post(slo, data={"SAMLRequest": base64.b64encode(signed.encode()).decode(), "RelayState": "rs-logout"}, verify=False, allow_redirects=False)
    action, fields = form(r.text)
    if "SAMLResponse" not in fields:
        return {"refused": r.status_code, "body": r.text[-400:], "request": signed[:1500]}
    answer = sp.parse_logout_request_response(fields["SAMLResponse"], BINDING_HTTP_POST)
    status = answer.response.status.status_code
    return {"action": action, "destination_sent": req.destination, "status": status.value, "relay_state": fields.get("RelayState"),
            "sub_status": status.status_code.value if status.status_code is not None else None,
            "status_message": answer.response.status.status_message.text if answer.response.status.status_message is not None else None}


def logout_pysaml2(sp, resp, session):
    from saml2 import BINDING_HTTP_POST
    responses = sp.global_logout(resp.name_id, sign=True, sign_alg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                                 digest_alg="http://www.w3.org/2001/04/xmlenc#sha256")
    (_, (binding, info)), = responses.items()
    if binding.endswith("HTTP-Redirect"):
        r = session.get(dict(info["headers"])["Location"], verify=False, allow_redirects=False)
    else:
        action, fields = form(info["data"])
        r = session.post(action, data=fields, verify=False, allow_redirects=False)
    action, fields = form(r.text)
    if "SAMLResponse" not in fields:
        return {"refused": r.status_code, "body": r.text[-400:]}
    answer = sp.parse_logout_request_response(fields["SAMLResponse"], BINDING_HTTP_POST)
    status = answer.response.status.status_code
    return {"action": action, "binding": binding, "status": status.value,
            "sub_status": status.status_code.value if status.status_code is not None else None}


def slo_chain(args):
    """Two pysaml2 SPs log in in one browser (one SSO session at SpidL1); the first logs out; the gateway sends a
    signed LogoutRequest to the second, which answers; the first gets the final LogoutResponse."""
    import copy
    from saml2 import BINDING_HTTP_POST
    session = requests.Session()
    second = copy.copy(args)
    second.entity_id, second.acs = args.second_entity_id, args.second_acs
    sp_a, sp_b = pysaml2_client(args, session), pysaml2_client(second, session)
    kept_a, kept_b = [], []
    first = login_pysaml2(args, sp_a, session, kept_a)
    other = login_pysaml2(second, sp_b, session, kept_b)
    if not kept_a or not kept_b:
        return {"stage": "login", "first": first, "second": other}
    out = {"session_index_a": first.get("session_index"), "session_index_b": other.get("session_index")}
    received = []
    if args.oidc_client:   # an OIDC client joins the same session; it must get a back-channel logout token
        out["oidc_joined"] = oidc_join(args, session)
        received = backchannel_listener(args.oidc_backchannel_port)
    if args.before_logout:   # e.g. unregister the second SP, which the gateway then cannot tell
        import subprocess
        subprocess.run(args.before_logout, shell=True, check=True, capture_output=True)
        time.sleep(1.3)
    (_, (binding, info)), = sp_a.global_logout(kept_a[0].name_id, sign=True, sign_alg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                                               digest_alg="http://www.w3.org/2001/04/xmlenc#sha256").items()
    r = session.get(dict(info["headers"])["Location"], verify=False, allow_redirects=False) if binding.endswith("HTTP-Redirect") \
        else session.post(form(info["data"])[0], data=form(info["data"])[1], verify=False, allow_redirects=False)
    action, fields = form(r.text)
    out["request_to"] = action
    if "SAMLResponse" in fields:   # nobody else to tell: the final answer at once
        return {**out, **final_status(sp_a, fields)}
    if "SAMLRequest" not in fields:
        return {**out, "stage": "propagation", "status": r.status_code, "body": r.text[-500:]}
    # The second SP verifies the gateway's signed LogoutRequest and answers it.
    request = sp_b.parse_logout_request(fields["SAMLRequest"], BINDING_HTTP_POST)
    out["request_name_id_matches"] = request.message.name_id.text == kept_b[0].name_id.text
    answer = sp_b.handle_logout_request(fields["SAMLRequest"], kept_b[0].name_id, BINDING_HTTP_POST, sign=True,
                                        sign_alg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                                        digest_alg="http://www.w3.org/2001/04/xmlenc#sha256", relay_state=fields.get("RelayState"))
    if "headers" in answer and dict(answer["headers"]).get("Location"):
        r = session.get(dict(answer["headers"])["Location"], verify=False, allow_redirects=False)
    else:
        a_action, a_fields = form(answer["data"])
        r = session.post(a_action, data=a_fields, verify=False, allow_redirects=False)
    action, fields = form(r.text)
    out["response_to"] = action
    if "SAMLResponse" not in fields:
        return {**out, "stage": "final", "status": r.status_code, "body": r.text[-500:]}
    result = {**out, **final_status(sp_a, fields)}
    if args.oidc_client:
        result["backchannel_received"] = len(received)
        if received:
            token = received[0]["logout_token"]
            claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
            result["logout_token"] = {"aud": claims.get("aud"), "events": list(claims.get("events", {}).keys()), "sid": "sid" in claims}
    return result


def oidc_join(args, session):
    """A plain OIDC client's code flow in the browser that holds the SSO session (PKCE, SpidL1); True if a code came back."""
    import hashlib
    import secrets
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    issuer = args.idp_metadata.rsplit("/saml/", 1)[0]
    query = urllib.parse.urlencode({"client_id": args.oidc_client, "response_type": "code", "scope": "openid", "redirect_uri": args.oidc_redirect,
                                    "code_challenge": challenge, "code_challenge_method": "S256", "acr_values": "https://www.spid.gov.it/SpidL1"})
    cert = (args.card_cert, args.card_key)
    r = session.get(f"{issuer}/oidc/authorize?{query}", verify=False, allow_redirects=False)
    card = r.headers.get("Location", "")
    r = session.get(card, cert=cert, verify=False, allow_redirects=False)
    if 'value="approve"' in r.text:
        login = urllib.parse.parse_qs(urllib.parse.urlparse(card).query)["login"][0]
        r = session.post(urllib.parse.urljoin(card, "/login/consent"), data={"login": login, "decision": "approve", "token": consent_token(r.text)},
                         cert=cert, verify=False,
                         allow_redirects=False)
    r = session.get(r.headers.get("Location", ""), verify=False, allow_redirects=False)
    return "code=" in r.headers.get("Location", "")


def backchannel_listener(port):
    """Receives logout tokens on 127.0.0.1:port in the background; returns the list they are appended to."""
    import http.server
    import threading
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            received.append(dict(urllib.parse.parse_qsl(body)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return received


def final_status(sp, fields):
    """The status of a LogoutResponse, read by pysaml2 (which raises on anything but Success)."""
    from saml2 import BINDING_HTTP_POST
    try:
        final = sp.parse_logout_request_response(fields["SAMLResponse"], BINDING_HTTP_POST)
        status = final.response.status.status_code
        return {"final_status": status.value, "final_sub_status": status.status_code.value if status.status_code is not None else None}
    except Exception as e:
        return {"final_status": "error", "final_error": type(e).__name__, "final_message": str(e)[:300]}


def login_onelogin(args):
    from onelogin.saml2.auth import OneLogin_Saml2_Auth
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser as P
    from onelogin.saml2.constants import OneLogin_Saml2_Constants as K
    session = requests.Session()
    idp = P.parse(session.get(args.idp_metadata, verify=False).text, required_sso_binding=K.BINDING_HTTP_REDIRECT)
    settings = onelogin_settings(args, idp)
    acs = urllib.parse.urlparse(args.acs)
    req = {"https": "on", "http_host": acs.hostname, "server_port": str(acs.port or 443), "script_name": acs.path, "get_data": {}, "post_data": {}}
    auth = OneLogin_Saml2_Auth(req, settings)
    url = auth.login(return_to="rs-onelogin")
    request_id = auth.get_last_request_id()
    r = session.get(url, verify=False, allow_redirects=False)
    kind, value = outcome_of_gateway(r)
    if kind == "page":
        return {"refused": "page", **value}
    steps, problem = card_steps(args, value, session)
    if problem:
        return {"refused": "flow", **problem}
    action, fields = steps
    auth = OneLogin_Saml2_Auth(dict(req, post_data={"SAMLResponse": fields["SAMLResponse"]}), settings)
    auth.process_response(request_id=request_id)
    return {"action": action, "relay_state": fields.get("RelayState"), "errors": auth.get_errors(), "reason": auth.get_last_error_reason(),
            "authenticated": auth.is_authenticated(), "name_id": auth.get_nameid(), "name_id_format": auth.get_nameid_format(),
            "attributes": auth.get_attributes(), "session_index": auth.get_session_index(),
            "encrypted": "EncryptedAssertion" in base64.b64decode(fields["SAMLResponse"]).decode()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["metadata", "login", "slo-chain", "authn-url"])
    parser.add_argument("--lib", choices=["pysaml2", "python3-saml"], required=True)
    parser.add_argument("--entity-id", required=True)
    parser.add_argument("--acs", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--spid", action="store_true")
    parser.add_argument("--idp-metadata")
    parser.add_argument("--binding", default="redirect")
    parser.add_argument("--card-cert")
    parser.add_argument("--card-key")
    parser.add_argument("--level", default="SpidL2")
    parser.add_argument("--tamper")
    parser.add_argument("--deny", action="store_true")
    parser.add_argument("--wait-before-card", type=float, default=0, help="seconds to wait before the card step")
    parser.add_argument("--logout", action="store_true")
    parser.add_argument("--logout-spid", action="store_true", help="log out as SPID SPs do: Destination the IdP entityID, empty SessionIndex")
    parser.add_argument("--pysaml2-defaults", action="store_true", help="pysaml2's default settings (the Response must be signed)")
    parser.add_argument("--encrypted", action="store_true")
    parser.add_argument("--second-entity-id")
    parser.add_argument("--second-acs")
    parser.add_argument("--before-logout")
    parser.add_argument("--oidc-client", help="slo-chain: an OIDC client that joins the session")
    parser.add_argument("--oidc-redirect")
    parser.add_argument("--oidc-backchannel-port", type=int)
    args = parser.parse_args()
    if args.mode == "metadata":
        return metadata(args)
    if args.mode == "slo-chain":
        return json.dump(slo_chain(args), sys.stdout, default=str)
    result = login_pysaml2(args) if args.lib == "pysaml2" else login_onelogin(args)
    json.dump(result, sys.stdout, default=str)


if __name__ == "__main__":
    main()
