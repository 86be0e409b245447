"""Serves prepared federation statements from a directory, for the OpenIDFederation tests.

GET /PATH            -> the file DIR/PATH (Entity Configurations at NAME/.well-known/openid-federation)
GET /PATH?sub=X      -> the file DIR/PATH/<X percent-encoded> (a fetch endpoint's Subordinate Statement)
GET /redirect/PATH   -> 302 to /PATH (to check that the gateway does not follow redirects)
Usage: statement_server.py DIR PORT
"""
import http.server
import os
import sys
import urllib.parse

ROOT, PORT = sys.argv[1], int(sys.argv[2])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", url.path[len("/redirect"):] + ("?" + url.query if url.query else ""))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = os.path.normpath(os.path.join(ROOT, url.path.lstrip("/")))
        sub = urllib.parse.parse_qs(url.query).get("sub")
        if sub:
            path = os.path.join(path, urllib.parse.quote(sub[0], safe=""))
        if not path.startswith(ROOT) or not os.path.isfile(path):
            self.send_error(404)
            return
        body = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/entity-statement+jwt")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
