"""A local SPID/CIE OIDC federation from PyPI's spid-cie-oidc (the reference implementation) for the gateway's tests:
its `authority` app as the trust anchor and its `relying_party` app as a SPID relying party, each a Django process on
127.0.0.1 with its own SQLite database in STATE.

  federation.py setup rp  STATE --ta URL --rp-port N --gateway URL       the RP's keys and configuration
  federation.py setup ta  STATE --ta URL --gateway URL                   the anchor: its keys, the RP and the gateway
                                                                          as subordinates, the RP's trust mark
  federation.py setup mark STATE --ta URL --gateway URL                  the trust mark into the RP's configuration
  federation.py serve ta|rp STATE --ta URL --port N --gateway URL        runs one of them
  federation.py login --rp URL --gateway URL --card-cert F --card-key F  a citizen's login from the RP's button to
                                                                          its landing page; prints JSON
  federation.py validate-op --gateway URL                                the gateway's Entity Configuration checked
                                                                          with spid-cie-oidc's own OP schemas
"""
import argparse
import json
import os
import re
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SPID_RP_MARK = "https://www.spid.gov.it/certification/rp/public"


def django_setup(role, args):
    os.environ.update(FED_ROLE=role, FED_STATE=os.path.abspath(args.state), FED_TA=args.ta, FED_GATEWAY=args.gateway,
                      DJANGO_SETTINGS_MODULE="fedproject.settings")
    sys.path.insert(0, HERE)
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0, interactive=False)


def public(jwk):
    return {k: v for k, v in jwk.items() if k in ("kty", "kid", "use", "alg", "n", "e", "crv", "x", "y")}


def fetch_jwt(url):
    import requests
    r = requests.get(url, verify=False, timeout=10)
    r.raise_for_status()
    return r.text.strip()


def unverified_payload(jwt):
    import base64
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def setup_rp(args):
    django_setup("rp", args)
    from spid_cie_oidc.entity.jwks import create_jwk
    from spid_cie_oidc.entity.models import FederationEntityConfiguration
    rp = f"http://127.0.0.1:{args.rp_port}/oidc/rp/"
    fed = create_jwk()
    sig, enc = create_jwk(), create_jwk()
    sig["use"], enc["use"] = "sig", "enc"
    metadata = {
        "federation_entity": {"organization_name": "Comune di Prova (test RP)", "homepage_uri": rp, "contacts": ["rp@comune.example.it"],
                              "federation_resolve_endpoint": rp + "resolve"},
        "openid_relying_party": {
            "application_type": "web", "client_id": rp, "client_registration_types": ["automatic"],
            "jwks": {"keys": [public(sig), public(enc)]}, "client_name": "Comune di Prova", "contacts": ["rp@comune.example.it"],
            "grant_types": ["refresh_token", "authorization_code"], "redirect_uris": [rp + "callback"], "response_types": ["code"],
            "subject_type": "pairwise", "id_token_signed_response_alg": "RS256", "userinfo_signed_response_alg": "RS256",
            "userinfo_encrypted_response_alg": "RSA-OAEP", "userinfo_encrypted_response_enc": "A128CBC-HS256",
            "token_endpoint_auth_method": "private_key_jwt",
        },
    }
    FederationEntityConfiguration.objects.all().delete()
    FederationEntityConfiguration.objects.create(sub=rp, authority_hints=[args.ta], jwks_fed=[fed], jwks_core=[sig, enc], metadata=metadata,
                                                 entity_type="openid_relying_party", is_active=True)
    json.dump({"entity_id": rp, "jwks": [public(fed)]}, open(os.path.join(args.state, "rp.json"), "w"))
    print(json.dumps({"rp": rp}))


def setup_ta(args):
    django_setup("ta", args)
    from spid_cie_oidc.authority.models import FederationDescendant, FederationEntityAssignedProfile, FederationEntityProfile
    from spid_cie_oidc.entity.jwks import create_jwk
    from spid_cie_oidc.entity.models import FederationEntityConfiguration
    ta = args.ta
    rp = json.load(open(os.path.join(args.state, "rp.json")))
    gateway_ec = unverified_payload(fetch_jwt(args.gateway.rstrip("/") + "/.well-known/openid-federation"))
    key = create_jwk()
    FederationEntityConfiguration.objects.all().delete()
    conf = FederationEntityConfiguration.objects.create(
        sub=ta, jwks_fed=[key], entity_type="federation_entity", is_active=True,
        trust_mark_issuers={SPID_RP_MARK: [ta]},
        metadata={"federation_entity": {"organization_name": "Test trust anchor", "homepage_uri": ta, "contacts": ["ta@example.it"],
                                        "federation_fetch_endpoint": ta + "fetch", "federation_list_endpoint": ta + "list",
                                        "federation_trust_mark_status_endpoint": ta + "trust_mark_status"}})
    rp_profile = FederationEntityProfile.objects.create(name="SPID public RP", profile_category="openid_relying_party", profile_id=SPID_RP_MARK,
                                                        trust_mark_template={"organization_type": "public", "id_code": {"ipa_code": "c_test"},
                                                                             "email": "rp@comune.example.it", "organization_name": "Comune di Prova"})
    op_profile = FederationEntityProfile.objects.create(name="OP", profile_category="openid_provider", profile_id="https://www.spid.gov.it/certification/op",
                                                        trust_mark_template={"organization_type": "public"})
    descendants = [(rp["entity_id"], rp["jwks"], rp_profile, "openid_relying_party"), (gateway_ec["sub"], gateway_ec["jwks"]["keys"], op_profile, "openid_provider")]
    for sub, jwks, profile, kind in descendants:
        d = FederationDescendant.objects.create(name=kind, sub=sub, type=kind, jwks=jwks, is_active=True, metadata_policy={})
        FederationEntityAssignedProfile.objects.create(descendant=d, profile=profile, issuer=conf)
    mark = FederationEntityAssignedProfile.objects.get(profile=rp_profile).trust_mark
    json.dump({"entity_id": ta, "jwks": [public(key)], "rp_trust_mark": mark}, open(os.path.join(args.state, "ta.json"), "w"))
    # The anchor's trust mark for the gateway, for `cnsgw federation trust-mark add`.
    with open(os.path.join(args.state, "gateway-mark.jwt"), "w") as f:
        f.write(FederationEntityAssignedProfile.objects.get(profile=op_profile).trust_mark["trust_mark"])
    print(json.dumps({"ta": ta, "gateway": gateway_ec["sub"]}))


def setup_mark(args):
    django_setup("rp", args)
    from spid_cie_oidc.entity.models import FederationEntityConfiguration
    mark = json.load(open(os.path.join(args.state, "ta.json")))["rp_trust_mark"]
    conf = FederationEntityConfiguration.objects.get(entity_type="openid_relying_party")
    conf.trust_marks = [mark]
    conf.save()
    print(json.dumps({"trust_marks": 1}))


def serve(args):
    django_setup(args.role, args)
    from django.core.management import call_command
    call_command("runserver", f"127.0.0.1:{args.port}", use_reloader=False, use_threading=True)


def login(args):
    import requests
    import urllib3
    urllib3.disable_warnings()
    sys.path.insert(0, os.path.join(HERE, "..", "OIDC"))
    from rp_client import card_steps
    session = requests.Session()
    begin = session.get(args.rp + "authorization", params={"provider": args.gateway}, allow_redirects=False, timeout=60)
    result = {"begin_status": begin.status_code}
    if begin.status_code != 302:
        result["begin_body"] = begin.text[-1500:]
        print(json.dumps(result))
        return
    location = begin.headers["Location"]
    result["authorize"] = location.split("?")[0]
    result["request_params"] = sorted(urllib.parse.parse_qs(urllib.parse.urlsplit(location).query))
    back, failure = card_steps(session, location, (args.card_cert, args.card_key))
    if failure:
        result["failure"] = failure
        print(json.dumps(result))
        return
    result["callback"] = back.split("?")[0]
    result["callback_params"] = sorted(urllib.parse.parse_qs(urllib.parse.urlsplit(back).query))
    r = session.get(back, allow_redirects=False, timeout=60)
    result["callback_status"] = r.status_code
    if r.status_code != 302:
        result["callback_body"] = re.sub(r"\s+", " ", r.text)[-1500:]
        print(json.dumps(result))
        return
    landing = session.get(urllib.parse.urljoin(back, r.headers["Location"]), allow_redirects=False, timeout=30)
    result["landing"] = urllib.parse.urljoin(back, r.headers["Location"])
    result["landing_status"] = landing.status_code
    cells = re.findall(r"<td[^>]*>(.*?)</td>", landing.text, re.S)
    result["landing_attributes"] = [re.sub(r"\s+", " ", c).strip() for c in cells]
    result["landing_text"] = re.sub(r"<[^>]+>", " ", landing.text)
    result["landing_text"] = re.sub(r"\s+", " ", result["landing_text"])[:3000]
    print(json.dumps(result))


def validate_op(args):
    os.environ.setdefault("FED_ROLE", "rp")
    import requests
    import urllib3
    urllib3.disable_warnings()
    jwt = fetch_jwt(args.gateway.rstrip("/") + "/.well-known/openid-federation")
    payload = unverified_payload(jwt)
    os.environ.update(FED_STATE="/tmp", FED_TA=args.gateway, DJANGO_SETTINGS_MODULE="fedproject.settings")
    sys.path.insert(0, HERE)
    import django
    django.setup()
    from spid_cie_oidc.entity.schemas.op_metadata import OPMetadataCie, OPMetadataSpid
    result = {"entity_id": payload.get("sub"), "errors": {}}
    for name, schema in (("spid", OPMetadataSpid), ("cie", OPMetadataCie)):
        try:
            schema(**payload["metadata"]["openid_provider"])
            result["errors"][name] = None
        except Exception as e:   # pydantic's ValidationError: every field that failed
            result["errors"][name] = str(e)
    print(json.dumps(result))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup")
    s.add_argument("role", choices=["rp", "ta", "mark"])
    s.add_argument("state")
    s.add_argument("--ta", required=True)
    s.add_argument("--gateway", required=True)
    s.add_argument("--rp-port", type=int, default=0)
    v = sub.add_parser("serve")
    v.add_argument("role", choices=["rp", "ta"])
    v.add_argument("state")
    v.add_argument("--ta", required=True)
    v.add_argument("--gateway", required=True)
    v.add_argument("--port", type=int, required=True)
    lg = sub.add_parser("login")
    for name in ("--rp", "--gateway", "--card-cert", "--card-key"):
        lg.add_argument(name, required=True)
    vo = sub.add_parser("validate-op")
    vo.add_argument("--gateway", required=True)
    args = p.parse_args()
    if args.command == "setup":
        {"rp": setup_rp, "ta": setup_ta, "mark": setup_mark}[args.role](args)
    elif args.command == "serve":
        serve(args)
    elif args.command == "login":
        login(args)
    else:
        validate_op(args)


if __name__ == "__main__":
    main()
