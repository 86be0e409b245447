#!/usr/bin/env python3
"""Starts COUNT pending logins at a running gateway, as service providers' browsers do, and prints each one's card
step (the path and query the gateway redirects the browser to on the card listener), one per line. Each login is a
signed SPID AuthnRequest over HTTP-Redirect; the card step is then measured on its own (bench/card-logins.sh).

usage: pending_logins.py PUBLIC_URL SP_KEY ENTITY_ID COUNT [THREADS]
Python is the slower side here (the signing and `requests`), so the logins are started from one process per core,
each with THREADS threads (4 by default).
"""
import multiprocessing
import os
import sys
import threading
import urllib.parse
import warnings

import requests

from spid_request import load_key, redirect_query

warnings.filterwarnings("ignore")
public, sp_key_path, entity, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 4
sp_key = load_key(sp_key_path)


def authn_request():
    # Without ForceAuthn: the login is started well before its card step is measured.
    return redirect_query(public, entity, sp_key, force_authn=False)


def shares(n, k):
    """`n` split into `k` near-equal parts."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def start(n):
    """Starts `n` logins from this process's threads; returns their card steps and how many could not be started."""
    steps, failures, lock = [], [0], threading.Lock()

    def worker(k):
        session = requests.Session()
        for _ in range(k):
            r = session.get(f"{public}/saml/sso?{authn_request()}", verify=False, allow_redirects=False, timeout=20)
            location = r.headers.get("Location", "")
            with lock:
                if r.status_code in (302, 303) and "/login/card?" in location:
                    parsed = urllib.parse.urlparse(location)
                    steps.append(parsed.path + "?" + parsed.query)
                else:
                    failures[0] += 1

    workers = [threading.Thread(target=worker, args=(k,)) for k in shares(n, threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return steps, failures[0]


if __name__ == "__main__":
    processes = max(1, min(os.cpu_count() or 1, count // 50 or 1))
    with multiprocessing.Pool(processes) as pool:
        results = pool.map(start, shares(count, processes))
    steps = [step for part, _ in results for step in part]
    failed = sum(f for _, f in results)
    if failed:
        print(f"{failed} of {count} logins could not be started", file=sys.stderr)
        sys.exit(1)
    print("\n".join(steps))
