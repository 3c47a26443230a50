#!/usr/bin/env python3
"""Small real servers for the key-service tests, all on 127.0.0.1 (stdlib only).

  servers.py --root DIR --ports FILE [--cert C --key K]

Starts, each on an ephemeral port, and writes NAME=PORT lines to FILE:
  http      serves DIR (404 for what is missing); /_redirect/HOST/PATH answers
            302 to http://HOST/PATH
  https     the same over TLS with C/K
  slow      accepts, then answers after 30 s
  big       answers 200 with 1 MiB of zeros
  blackhole a UDP socket that reads DNS queries and never answers
Runs until killed.
"""
import argparse
import functools
import http.server
import socket
import socketserver
import ssl
import threading
import time


class Quiet(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/_redirect/"):
            host, _, path = self.path[len("/_redirect/"):].partition("/")
            self.send_response(302)
            self.send_header("Location", f"http://{host}/{path}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args):
        pass


class Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(30)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class Big(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(1 << 20))
        self.end_headers()
        try:
            self.wfile.write(b"\0" * (1 << 20))
        except OSError:
            pass

    def log_message(self, *args):
        pass


class Threaded(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--ports", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    ports = {}
    handler = functools.partial(Quiet, directory=args.root)
    ports["http"] = serve(Threaded(("127.0.0.1", 0), handler))
    if args.cert:
        tls = Threaded(("127.0.0.1", 0), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        ports["https"] = serve(tls)
    ports["slow"] = serve(Threaded(("127.0.0.1", 0), Slow))
    ports["big"] = serve(Threaded(("127.0.0.1", 0), Big))
    hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hole.bind(("127.0.0.1", 0))
    ports["blackhole"] = hole.getsockname()[1]
    threading.Thread(target=lambda: [hole.recvfrom(4096) for _ in iter(int, 1)], daemon=True).start()
    with open(args.ports + ".tmp", "w") as f:
        for name, port in ports.items():
            f.write(f"{name}={port}\n")
    import os
    os.rename(args.ports + ".tmp", args.ports)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
