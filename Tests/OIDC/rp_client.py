#!/usr/bin/env python3
"""Real OpenID Connect relying parties (authlib, idpyoidc) against the gateway, for the end-to-end tests.

  rp_client.py keys --out DIR
      a client signing key and encryption key (private JWKs in DIR/client-private.json), the public JWKS in DIR/client.jwks
  rp_client.py login --lib authlib|idpyoidc --issuer URL --client-id ID --redirect-uri URI --card-cert P --card-key K
                     [--secret S | --keys DIR] [--profile spid|plain] [--scope S] [--acr L] [--attacks] [--second ID,URI,SECRET]
      the code flow with PKCE through the card listener with the test card; the library validates the ID token and
      userinfo with its own code; then refresh, introspection, revocation. Prints one JSON object with what it saw.
"""
import argparse
import base64
import hashlib
import html
import http.server
import json
import os
import tempfile
import re
import secrets
import sys
import threading
import time
import urllib.parse
import warnings

import requests

warnings.filterwarnings("ignore")
LEVEL = "https://www.spid.gov.it/"
FISCAL = "https://attributes.eid.gov.it/fiscal_number"


def keys(args):
    from authlib.jose import JsonWebKey
    sig = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "rp-sig"}).as_dict(is_private=True)
    enc = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "rp-enc"}).as_dict(is_private=True)
    sig.update(use="sig", alg="RS256")
    enc.update(use="enc")
    json.dump({"sig": sig, "enc": enc}, open(f"{args.out}/client-private.json", "w"))
    public = lambda k: {n: v for n, v in k.items() if n in ("kty", "kid", "use", "alg", "n", "e")}
    json.dump({"keys": [public(sig), public(enc)]}, open(f"{args.out}/client.jwks", "w"))
    print(json.dumps({"ok": True}))


def card_steps(session, location, cert, deny=False):
    """Follows the gateway to the card listener, consents, comes back through /oidc/continue; returns the final
    redirect to the client (or the page the browser was left on)."""
    r = session.get(location, verify=False, allow_redirects=False)
    if r.status_code != 303:
        return None, {"stage": "authorize", "status": r.status_code, "body": r.text[-800:]}
    card = r.headers["Location"]
    if "/login/card" not in card:   # refused: straight back to the client with the error
        return card, None
    r = session.get(card, cert=cert, verify=False, allow_redirects=False)
    # A login that must see a fresh card handshake sends a reused connection back to the card page, closed.
    for _ in range(2):
        if r.status_code == 303 and "/login/card" in r.headers["Location"]:
            r = session.get(urllib.parse.urljoin(card, r.headers["Location"]), cert=cert, verify=False, allow_redirects=False)
    if 'value="approve"' in r.text:
        login = urllib.parse.parse_qs(urllib.parse.urlparse(card).query)["login"][0]
        token = re.search(r'name="token" value="([^"]*)"', r.text)
        r = session.post(urllib.parse.urljoin(card, "/login/consent"), data={"login": login, "decision": "deny" if deny else "approve",
                                                                             "token": html.unescape(token.group(1)) if token else ""},
                         cert=cert, verify=False, allow_redirects=False)
    if r.status_code != 303:
        m = re.search(r'href="([^"]+/oidc/continue[^"]*)"', r.text)
        if not m:
            return None, {"stage": "card", "status": r.status_code, "body": r.text[-800:]}
        back = html.unescape(m.group(1))
    else:
        back = r.headers["Location"]
    r = session.get(back, verify=False, allow_redirects=False)
    if r.status_code != 303:
        return None, {"stage": "continue", "status": r.status_code, "body": r.text[-800:]}
    return r.headers["Location"], None


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def decode_jwt(token, jwks):
    from authlib.jose import JsonWebKey, jwt
    return jwt.decode(token, JsonWebKey.import_key_set(jwks))


class Authlib:
    """authlib's OAuth2Session as the RP: PKCE S256, private_key_jwt or client_secret_basic, request objects."""

    def __init__(self, args, disco, jwks, client_id, redirect_uri, secret=None):
        from authlib.integrations.requests_client import OAuth2Session
        from authlib.oauth2.rfc7523 import PrivateKeyJWT
        self.args, self.disco, self.jwks, self.client_id, self.redirect_uri = args, disco, jwks, client_id, redirect_uri
        self.private = json.load(open(f"{args.keys}/client-private.json")) if args.keys else None
        if self.private:
            self.s = OAuth2Session(client_id, self.private["sig"], scope=args.scope, redirect_uri=redirect_uri, code_challenge_method="S256",
                                   token_endpoint_auth_method="private_key_jwt")
            self.s.register_client_auth_method(PrivateKeyJWT(disco["token_endpoint"], headers={"kid": "rp-sig"}))
            self.s.revocation_endpoint_auth_method = "private_key_jwt"
        else:
            self.s = OAuth2Session(client_id, secret, scope=args.scope, redirect_uri=redirect_uri, code_challenge_method="S256",
                                   token_endpoint_auth_method="client_secret_basic")
        self.s.verify = False

    def request_object(self, state, nonce, challenge, **changes):
        from authlib.jose import jwt
        now = int(time.time())
        claims = {"iss": self.client_id, "aud": self.disco["issuer"], "iat": now, "exp": now + 300, "jti": secrets.token_hex(16),
                  "client_id": self.client_id, "response_type": "code", "scope": self.args.scope, "redirect_uri": self.redirect_uri,
                  "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256",
                  "acr_values": LEVEL + self.args.acr, "prompt": "consent login",
                  "claims": {"userinfo": {FISCAL: {"essential": True}, "given_name": None, "family_name": None, "birthdate": None,
                                          "place_of_birth": None}}}
        claims.update(changes)
        return jwt.encode({"alg": "RS256", "kid": "rp-sig"}, claims, self.private["sig"]).decode()

    def authorization_url(self, **changes):
        verifier = secrets.token_urlsafe(48)
        state, nonce = secrets.token_hex(20), secrets.token_hex(20)
        extra = {"nonce": nonce, "code_verifier": verifier, "acr_values": LEVEL + self.args.acr}
        if self.private:
            _, challenge = verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            extra["request"] = self.request_object(state, nonce, challenge, **changes)
        else:
            extra["claims"] = json.dumps({"userinfo": {FISCAL: None}, "id_token": {"family_name": {"essential": True}}})
        url, state = self.s.create_authorization_url(self.disco["authorization_endpoint"], state=state, **extra)
        return url, state, nonce, verifier

    def validate_id_token(self, token, nonce):
        from authlib.jose import JsonWebEncryption, JsonWebKey, jwt
        from authlib.oidc.core import CodeIDToken
        signed = token["id_token"]
        self.id_token_encrypted = signed.count(".") == 4
        if self.id_token_encrypted:   # signed, then encrypted to our key: decrypt with authlib, then check as usual
            signed = JsonWebEncryption().deserialize_compact(signed, JsonWebKey.import_key(self.private["enc"]))["payload"].decode()
        claims = jwt.decode(signed, JsonWebKey.import_key_set(self.jwks), claims_cls=CodeIDToken,
                            claims_options={"iss": {"essential": True, "value": self.disco["issuer"]}},
                            claims_params={"nonce": nonce, "client_id": self.client_id, "access_token": token["access_token"]})
        claims.validate(leeway=60)
        return dict(claims)

    def userinfo(self, access_token):
        from authlib.jose import JsonWebEncryption
        r = requests.get(self.disco["userinfo_endpoint"], headers={"Authorization": "Bearer " + access_token}, verify=False)
        if r.status_code != 200:
            return {"status": r.status_code, "www_authenticate": r.headers.get("WWW-Authenticate")}
        if r.headers["Content-Type"].startswith("application/jwt"):
            text, encrypted = r.text, False
            if text.count(".") == 4:
                jwe = JsonWebEncryption()
                from authlib.jose import JsonWebKey
                decrypted = jwe.deserialize_compact(text, JsonWebKey.import_key(self.private["enc"]))
                encrypted, text = decrypted["header"], decrypted["payload"].decode()
            claims = decode_jwt(text, self.jwks)
            claims.validate(leeway=60)
            return {"status": 200, "claims": dict(claims), "jwt": True, "jwe_header": encrypted}
        return {"status": 200, "claims": r.json(), "jwt": False}


def login_authlib(args, session, cert, disco, jwks):
    rp = Authlib(args, disco, jwks, args.client_id, args.redirect_uri, args.secret)
    url, state, nonce, verifier = rp.authorization_url()
    callback, failure = card_steps(session, url, cert, args.deny)
    if failure:
        return {"failure": failure}
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(callback).query))
    out = {"callback_iss": q.get("iss"), "state_ok": q.get("state") == state, "callback_error": q.get("error")}
    if "code" not in q:
        return out
    token = rp.s.fetch_token(disco["token_endpoint"], authorization_response=callback, code_verifier=verifier, verify=False)
    out["id_token"] = rp.validate_id_token(token, nonce)
    out["token_type"], out["scope"] = token.get("token_type"), token.get("scope")
    out["id_token_encrypted"] = rp.id_token_encrypted
    out["access_token_header"] = json.loads(base64.urlsafe_b64decode(token["access_token"].split(".")[0] + "=="))
    out["userinfo"] = rp.userinfo(token["access_token"])
    intro = rp.s.introspect_token(disco["introspection_endpoint"], token=token["access_token"], verify=False)
    out["introspection"] = intro.json()
    if token.get("refresh_token"):
        refreshed = rp.s.refresh_token(disco["token_endpoint"], refresh_token=token["refresh_token"], verify=False)
        out["refreshed"] = {"new_refresh_token": refreshed.get("refresh_token") not in (None, token["refresh_token"]),
                            "userinfo": rp.userinfo(refreshed["access_token"])["status"]}
        reuse = post_token(rp, disco, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
        reuse["after_reuse_userinfo"] = rp.userinfo(refreshed["access_token"])["status"]
        out["refresh_reuse"] = reuse
        token = refreshed
    if args.logout_hint:
        out["id_token_raw"] = token["id_token"]
    revoked = rp.s.revoke_token(disco["revocation_endpoint"], token=token["access_token"], verify=False)
    out["revocation"] = {"status": revoked.status_code, "userinfo_after": rp.userinfo(token["access_token"])["status"],
                         "introspection_after": rp.s.introspect_token(disco["introspection_endpoint"], token=token["access_token"], verify=False).json()}
    if args.attacks:
        out["attacks"] = attacks(rp, session, cert, disco)
    return out


def assertion(rp, disco, **changes):
    from authlib.jose import jwt
    now = int(time.time())
    claims = {"iss": rp.client_id, "sub": rp.client_id, "aud": disco["token_endpoint"], "iat": now, "exp": now + 60, "jti": secrets.token_hex(16)}
    claims.update(changes)
    return {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": jwt.encode({"alg": "RS256", "kid": "rp-sig"}, claims, rp.private["sig"]).decode()}


def post_token(rp, disco, data, auth_fields=None):
    auth = None
    if rp.private:
        data = {**data, **(auth_fields or assertion(rp, disco))}
    else:
        auth = (rp.client_id, rp.args.secret)
    r = requests.post(disco["token_endpoint"], data=data, auth=auth, verify=False)
    body = r.json() if r.headers.get("Content-Type", "").startswith("application/json") else {}
    return {"status": r.status_code, "error": body.get("error"), "issued": "access_token" in body}


def attacks(rp, session, cert, disco):
    """Each must be refused with the right OAuth error and issue nothing."""
    out = {}
    url, state, nonce, verifier = rp.authorization_url()
    callback, failure = card_steps(session, url, cert)
    if failure:
        return {"failure": failure}
    used_code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(callback).query)).get("code")
    token = rp.s.fetch_token(disco["token_endpoint"], authorization_response=callback, code_verifier=verifier, verify=False)
    # A fresh login whose code is tried with a wrong PKCE verifier, then (spent) with the right one.
    url, state, nonce, good = rp.authorization_url()
    callback, failure = card_steps(session, url, cert)
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(callback).query)).get("code") if callback else None
    base = {"grant_type": "authorization_code", "redirect_uri": rp.redirect_uri}
    out["pkce_mismatch"] = post_token(rp, disco, {**base, "code": code, "code_verifier": secrets.token_urlsafe(48)})
    out["code_after_failed_pkce"] = post_token(rp, disco, {**base, "code": code, "code_verifier": good})
    url, state, nonce, good = rp.authorization_url()
    callback, failure = card_steps(session, url, cert)
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(callback).query)).get("code") if callback else None
    out["pkce_missing"] = post_token(rp, disco, {**base, "code": code})
    # Code replay: the first code again; the tokens issued from it must stop working.
    out["code_replay"] = post_token(rp, disco, {**base, "code": used_code, "code_verifier": verifier})
    out["code_replay_userinfo"] = rp.userinfo(token["access_token"])["status"]
    if rp.private:
        url, state, nonce, good = rp.authorization_url()
        callback, failure = card_steps(session, url, cert)
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(callback).query)).get("code") if callback else None
        fields = assertion(rp, disco)
        first = post_token(rp, disco, {**base, "code": code, "code_verifier": good}, fields)
        out["assertion_first_use"] = first
        out["assertion_replay"] = post_token(rp, disco, {"grant_type": "refresh_token", "refresh_token": "x"}, fields)
        out["assertion_wrong_audience"] = post_token(rp, disco, {"grant_type": "refresh_token", "refresh_token": "x"},
                                                     assertion(rp, disco, aud="https://evil.example/token"))
        # The request object refusals come back to the redirect URI with invalid_request_object.
        for name, changes in {"request_object_expired": {"exp": int(time.time()) - 300, "iat": int(time.time()) - 600},
                              "request_object_foreign_audience": {"aud": "https://other-op.example"}}.items():
            url, *_ = rp.authorization_url(**changes)
            r = session.get(url, verify=False, allow_redirects=False)
            out[name] = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(r.headers.get("Location", "")).query)).get("error")
    # An access token signed by someone else (the client's own JWT) at userinfo.
    from authlib.jose import jwt
    if rp.private:
        forged = jwt.encode({"alg": "RS256", "typ": "at+jwt"}, {"iss": disco["issuer"], "aud": disco["userinfo_endpoint"], "exp": int(time.time()) + 60,
                                                              "cnsgw_grant": "x", "client_id": rp.client_id, "sub": "x"}, rp.private["sig"]).decode()
        out["forged_access_token"] = rp.userinfo(forged)
    out["id_token_as_access_token"] = rp.userinfo(token["id_token"])
    return out


def login_idpyoidc(args, session, cert, disco, jwks):
    from idpyoidc.client.rp_handler import RPHandler
    config = {"issuer": args.issuer, "client_type": "oidc", "client_id": args.client_id, "client_secret": args.secret,
              "redirect_uris": [args.redirect_uri],
              "behaviour": {"response_types": ["code"], "scope": args.scope.split(), "token_endpoint_auth_method": "client_secret_basic"},
              "post_logout_redirect_uris": [args.post_logout_redirect_uri] if args.post_logout_redirect_uri else [],
              "services": {name: {"class": f"idpyoidc.client.oidc.{module}.{cls}"} for name, module, cls in (
                  ("discovery", "provider_info_discovery", "ProviderInfoDiscovery"), ("authorization", "authorization", "Authorization"),
                  ("accesstoken", "access_token", "AccessToken"), ("refresh_token", "refresh_access_token", "RefreshAccessToken"),
                  ("userinfo", "userinfo", "UserInfo"), ("end_session", "end_session", "EndSession"))},
              "add_ons": {"pkce": {"function": "idpyoidc.client.oauth2.add_on.pkce.add_support",
                                   "kwargs": {"code_challenge_length": 64, "code_challenge_method": "S256"}}}}
    rph = RPHandler(base_url=args.redirect_uri.rsplit("/", 1)[0], client_configs={"op": config}, httpc_params={"verify": False})
    url = rph.begin(issuer_id="op", req_args={"scope": args.scope.split()})
    callback, failure = card_steps(session, url, cert, args.deny)
    if failure:
        return {"failure": failure}
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(callback).query))
    out = {"callback_iss": q.get("iss"), "callback_error": q.get("error")}
    if "code" not in q:
        return out
    result = rph.finalize(args.issuer, q)
    out["id_token"] = result["id_token"].to_dict() if hasattr(result["id_token"], "to_dict") else dict(result["id_token"])
    out["userinfo"] = {"status": 200, "claims": result["userinfo"].to_dict() if hasattr(result["userinfo"], "to_dict") else dict(result["userinfo"])}
    out["token_type"] = result["token"] is not None
    # RP-initiated logout with the library's own request.
    logout = rph.logout(state=result["state"], post_logout_redirect_uri=args.post_logout_redirect_uri) if args.post_logout_redirect_uri else None
    if logout:
        r = session.get(logout["url"], verify=False, allow_redirects=False)
        out["logout"] = {"status": r.status_code, "location": r.headers.get("Location")}
    return out


class Backchannel(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        Backchannel.received.append(dict(urllib.parse.parse_qsl(body)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def chain(args, session, cert, disco, jwks):
    """Two plain clients share one single-sign-on session; the first logs out (RP-initiated); the second must get a
    back-channel logout token for its own subject and session."""
    server = http.server.HTTPServer(("127.0.0.1", args.backchannel_port), Backchannel)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    second_id, second_uri, second_secret = args.second.split(",")
    first = Authlib(args, disco, jwks, args.client_id, args.redirect_uri, args.secret)
    second = Authlib(args, disco, jwks, second_id, second_uri, second_secret)
    tokens = {}
    for name, rp in (("first", first), ("second", second)):
        url, state, nonce, verifier = rp.authorization_url()
        callback, failure = card_steps(session, url, cert)
        if failure:
            return {"failure": failure, "client": name}
        token = rp.s.fetch_token(disco["token_endpoint"], authorization_response=callback, code_verifier=verifier, verify=False)
        tokens[name] = rp.validate_id_token(token, nonce), token
    r = session.get(disco["end_session_endpoint"], params={"id_token_hint": tokens["first"][1]["id_token"], "state": "bye",
                                                         "post_logout_redirect_uri": args.post_logout_redirect_uri}, verify=False, allow_redirects=False)
    out = {"logout_status": r.status_code, "logout_location": r.headers.get("Location"),
           "sids": [tokens["first"][0].get("sid"), tokens["second"][0].get("sid")]}
    for _ in range(50):
        if Backchannel.received:
            break
        time.sleep(0.1)
    server.shutdown()
    if Backchannel.received:
        claims = decode_jwt(Backchannel.received[0]["logout_token"], jwks)
        header = json.loads(base64.urlsafe_b64decode(Backchannel.received[0]["logout_token"].split(".")[0] + "=="))
        out["logout_token"] = {"typ": header.get("typ"), "aud": claims["aud"], "iss": claims["iss"], "events": claims.get("events"),
                               "sub_matches": claims["sub"] == tokens["second"][0]["sub"], "sid_matches": claims.get("sid") == tokens["second"][0].get("sid"),
                               "nonce": "nonce" in claims}
    out["received"] = len(Backchannel.received)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["keys", "login", "chain"])
    p.add_argument("--out")
    p.add_argument("--lib", default="authlib")
    p.add_argument("--issuer")
    p.add_argument("--client-id")
    p.add_argument("--redirect-uri")
    p.add_argument("--post-logout-redirect-uri")
    p.add_argument("--secret")
    p.add_argument("--keys")
    p.add_argument("--scope", default="openid")
    p.add_argument("--acr", default="SpidL2")
    p.add_argument("--card-cert")
    p.add_argument("--card-key")
    p.add_argument("--attacks", action="store_true")
    p.add_argument("--deny", action="store_true")
    p.add_argument("--logout-hint", action="store_true")
    p.add_argument("--second")
    p.add_argument("--backchannel-port", type=int)
    args = p.parse_args()
    # Libraries such as idpyoidc write key files (private/jwks.json, static/jwks.json) into the working folder:
    # run in a fresh temporary folder so that nothing lands in the repository.
    for name in ("out", "keys", "card_cert", "card_key"):
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    os.chdir(tempfile.mkdtemp(prefix="cnsgw-rp-"))
    if args.mode == "keys":
        return keys(args)
    session = requests.Session()
    cert = (args.card_cert, args.card_key)
    disco = session.get(args.issuer + "/.well-known/openid-configuration", verify=False).json()
    jwks = session.get(disco["jwks_uri"], verify=False).json()
    run = chain if args.mode == "chain" else (login_authlib if args.lib == "authlib" else login_idpyoidc)
    try:
        out = run(args, session, cert, disco, jwks)
    except Exception as e:  # the library refused something: report it, the test decides
        import traceback
        out = {"exception": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-1500:]}
    out["discovery"] = {k: disco.get(k) for k in ("issuer", "code_challenge_methods_supported", "subject_types_supported")}
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    sys.exit(main())
