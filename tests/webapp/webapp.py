#!/usr/bin/env python3
"""The test web application the robot tests run transactions against.

    tests/webapp/webapp.py --port 0 [--tls-port 0]

Prints one line of JSON when it listens: {"http": PORT, "https": PORT, "cert": PATH}. The HTTPS
side uses a self-signed certificate made at start with the openssl command. Python's standard
library only (Debian's python3), so the suite needs nothing from the network.

Routes:
  /                 a page with a link to /form and an image (LCP)
  /form             a login form (GET) that POSTs to /login
  /login            POST user=&password= -> "Welcome, <user>" page (303 to /welcome?user=)
  /welcome          "Welcome, <user>"
  /delay?ms=N       answers after N ms
  /redirect?to=P    302 to P
  /status?code=N    answers with status N
  /api/items        JSON {"total": 2, "items": [{"id": 184467, "available": true}, ...]}
  /changing         text "Loading..." replaced by "Ready" after 300 ms of JavaScript
  /hang             never finishes the body (the robot must time out)
  /shift            a page whose layout shifts after load (CLS > 0)
  /img.png          a small PNG
"""
import argparse
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a3c66f0000000049454e44ae426082")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="text/html; charset=utf-8", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        p = url.path
        if p == "/":
            self.send(200, "<html><head><title>Shop</title></head><body><h1>Shop</h1>"
                      "<img src='/img.png' width='600' height='300'>"
                      "<a id='go' href='/form'>Sign in</a></body></html>")
        elif p == "/form":
            self.send(200, "<html><body><form method='post' action='/login'>"
                      "<input id='user' name='user'><input id='password' name='password' "
                      "type='password'><button id='submit' type='submit'>Sign in</button>"
                      "</form></body></html>")
        elif p == "/welcome":
            user = q.get("user", [""])[0]
            self.send(200, f"<html><body><p id='msg'>Welcome, {user}</p></body></html>")
        elif p == "/delay":
            time.sleep(int(q.get("ms", ["100"])[0]) / 1000)
            self.send(200, "<html><body>slow</body></html>")
        elif p == "/redirect":
            self.send(302, "", headers={"Location": q.get("to", ["/"])[0]})
        elif p == "/status":
            self.send(int(q.get("code", ["500"])[0]), "status page")
        elif p == "/api/items":
            self.send(200, json.dumps({"total": 2, "items": [{"id": 184467, "available": True},
                                                             {"id": 2, "available": False}]}),
                      "application/json")
        elif p == "/changing":
            self.send(200, "<html><body><p id='s'>Loading...</p><script>setTimeout(function(){"
                      "document.getElementById('s').textContent='Ready';},300);</script>"
                      "</body></html>")
        elif p == "/hang":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"<html><body>never ends")
            self.wfile.flush()
            time.sleep(3600)
        elif p == "/shift":
            self.send(200, "<html><body><p>top</p><div id='box' style='height:200px'></div>"
                      "<p>text that moves</p><script>setTimeout(function(){var d=document."
                      "createElement('div');d.style.height='300px';document.body.insertBefore("
                      "d,document.body.firstChild);},200);</script></body></html>")
        elif p == "/img.png":
            self.send(200, PNG, "image/png")
        else:
            self.send(404, "not found")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        if self.path == "/login":
            user = form.get("user", [""])[0]
            self.send(303, "", headers={"Location": "/welcome?user=" + urllib.parse.quote(user)})
        else:
            self.send(404, "not found")


def self_signed(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "30", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-port", type=int, default=0)
    args = ap.parse_args()
    http = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    http.daemon_threads = True
    tmp = tempfile.mkdtemp(prefix="primoart-webapp-")
    cert, key = self_signed(tmp)
    https = ThreadingHTTPServer(("127.0.0.1", args.tls_port), Handler)
    https.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    https.socket = ctx.wrap_socket(https.socket, server_side=True)
    for s in (http, https):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print(json.dumps({"http": http.server_address[1], "https": https.server_address[1],
                      "cert": cert}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
