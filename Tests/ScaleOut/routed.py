#!/usr/bin/env python3
"""Runs a test client (sp_client.py, rp_client.py) with its HTTP requests sent to chosen gateway instances.

  routed.py ROUTES LOG SCRIPT ARGS...

Both gateway instances publish the same addresses (those of the load balancer). ROUTES is a JSON list of rules
{"origin": "https://127.0.0.1:PORT", "path": "/oidc/token", "to": "https://127.0.0.1:OTHER"}; a request whose origin
is `origin` and whose path starts with `path` goes to `to` instead (first rule wins; "" matches every path). This
makes a login cross instances exactly where a test says (started on A, card step on B, ...). Every rewritten request
is appended to LOG as one JSON line {"path", "to"}, so the test can check where each step went.
"""
import json
import runpy
import sys
import urllib.parse

import requests

routes = json.load(open(sys.argv[1]))
log_path = sys.argv[2]
original_send = requests.Session.send


def routed_send(self, request, **kwargs):
    url = urllib.parse.urlsplit(request.url)
    origin = f"{url.scheme}://{url.netloc}"
    for rule in routes:
        if rule["origin"] == origin and url.path.startswith(rule["path"]):
            target = urllib.parse.urlsplit(rule["to"])
            request.url = urllib.parse.urlunsplit((target.scheme, target.netloc, url.path, url.query, url.fragment))
            with open(log_path, "a") as log:
                log.write(json.dumps({"path": url.path, "to": rule["to"]}) + "\n")
            break
    return original_send(self, request, **kwargs)


requests.Session.send = routed_send
script = sys.argv[3]
sys.argv = [script] + sys.argv[4:]
sys.path.insert(0, script.rsplit("/", 1)[0])
runpy.run_path(script, run_name="__main__")
