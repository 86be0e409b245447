#!/usr/bin/env python3
"""A login finished by another browser: the attack of issue 10, with two separate HTTP clients.

The attacker's client starts a login at the gateway (an OIDC authorization request or a signed SAML AuthnRequest,
given as --start) and so holds the login ID. The victim's client presents the card (as a browser with a remembered
certificate choice does) and is made to open the card step and post the consent cross-site; the attacker then tries
to redeem the continuation with the login ID. Prints one JSON object with what each step got; the test decides.

  login_hijack.py --start URL --card-cert PEM --card-key KEY --continue-path /oidc/continue|/saml/continue
"""
import argparse
import json
import re
import sys
import urllib.parse
import warnings

import requests

warnings.filterwarnings("ignore")


def token_of(page):
    m = re.search(r'name="token" value="([^"]*)"', page)
    return m.group(1) if m else ""


def issued(r):
    """Whether a response hands out an identity: an authorization code in a redirect, or a SAMLResponse form."""
    return "code=" in r.headers.get("Location", "") or 'name="SAMLResponse"' in r.text


def seen(r, login):
    return {"status": r.status_code, "issued": issued(r), "body": r.text.replace(login, "LOGIN")[-1500:]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--start", required=True)
    p.add_argument("--card-cert", required=True)
    p.add_argument("--card-key", required=True)
    p.add_argument("--continue-path", required=True)
    args = p.parse_args()
    cert = (args.card_cert, args.card_key)
    attacker, victim = requests.Session(), requests.Session()
    out = {}
    r = attacker.get(args.start, verify=False, allow_redirects=False)
    card_url = r.headers.get("Location", "")
    out["start"] = {"status": r.status_code, "location": card_url, "cookie_set": bool(r.headers.get("Set-Cookie"))}
    if "/login/card" not in card_url:
        return out
    login = urllib.parse.parse_qs(urllib.parse.urlparse(card_url).query)["login"][0]
    card = urllib.parse.urlparse(card_url)
    card_origin = f"{card.scheme}://{card.netloc}"
    public = urllib.parse.urlparse(args.start)
    continuation = f"{public.scheme}://{public.netloc}{args.continue_path}?login={login}"
    consent_url = card_origin + "/login/consent"

    # The attacker's page makes the victim's browser open the card step (the card goes along like a cookie).
    r = victim.get(card_url, cert=cert, verify=False, allow_redirects=False)
    out["victim_card"] = {"status": r.status_code, "consent_page": 'value="approve"' in r.text}
    token = token_of(r.text)
    # ...and post the consent from the attacker's site: the browser names that site in Origin and Sec-Fetch-Site.
    # Even with the right token (which the attacker cannot read) the cross-site form is refused.
    r = victim.post(consent_url, data={"login": login, "decision": "approve", "token": token}, cert=cert, verify=False, allow_redirects=False,
                    headers={"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"})
    out["cross_site_consent"] = seen(r, login)
    # A form without the token (all a cross-site form can carry), from a client that sends no Origin.
    r = victim.post(consent_url, data={"login": login, "decision": "approve"}, cert=cert, verify=False, allow_redirects=False)
    out["tokenless_consent"] = seen(r, login)
    # Suppose the victim is tricked into approving on the real page: the redirect goes to the victim's browser.
    r = victim.post(consent_url, data={"login": login, "decision": "approve", "token": token}, cert=cert, verify=False, allow_redirects=False,
                    headers={"Origin": card_origin, "Sec-Fetch-Site": "same-origin"})
    back = r.headers.get("Location", "")
    out["victim_consent"] = {"status": r.status_code, "has_continuation": "continuation=" in back}
    # The attacker's browser (which holds the binding cookie) redeems with the login ID alone, then with a guess.
    out["attacker_continue"] = seen(attacker.get(continuation, verify=False, allow_redirects=False), login)
    out["attacker_guess"] = seen(attacker.get(continuation + "&continuation=AAAA", verify=False, allow_redirects=False), login)
    # The victim's browser follows its redirect: it has the secret but did not start the login.
    if back:
        out["victim_continue"] = seen(victim.get(back, verify=False, allow_redirects=False), login)
    # A login that does not exist, for comparison: the refusal must look the same.
    unknown = f"{public.scheme}://{public.netloc}{args.continue_path}?login=LOGIN"
    out["unknown_continue"] = seen(attacker.get(unknown, verify=False, allow_redirects=False), "LOGIN")
    return out


if __name__ == "__main__":
    json.dump(main(), sys.stdout)
