#!/usr/bin/env python3
"""A minimal SMTP (and LMTP) sink on 127.0.0.1: accepts every message and saves it,
byte for byte as received (CRLF line ends, dot-unstuffed), to DIR/NNNN.eml, with its
envelope in DIR/NNNN.env ("MAIL FROM" line, then one "RCPT TO" line per recipient).
A file appears only complete: it is written as .tmp and renamed.

usage: smtp_sink.py PORT DIR [--no-8bitmime]   (standard library only; prints "ready" when listening)
  --no-8bitmime: the EHLO reply does not announce 8BITMIME (nor SMTPUTF8), so a relaying
                 MTA must downgrade 8bit content (RFC 6152); MAIL FROM with BODY=8BITMIME
                 is then refused (555), as a client must not send it.
"""
import os
import socketserver
import sys
import threading

args = [a for a in sys.argv[1:] if a != "--no-8bitmime"]
no_8bitmime = "--no-8bitmime" in sys.argv[1:]
port, out = int(args[0]), args[1]
os.makedirs(out, exist_ok=True)
lock = threading.Lock()
counter = [0]


def save(sender, rcpts, data):
    with lock:
        counter[0] += 1
        n = counter[0]
    base = os.path.join(out, "%04d" % n)
    with open(base + ".env.tmp", "w") as f:
        f.write("MAIL FROM:<%s>\n" % sender)
        for r in rcpts:
            f.write("RCPT TO:<%s>\n" % r)
    os.rename(base + ".env.tmp", base + ".env")
    with open(base + ".eml.tmp", "wb") as f:
        f.write(data)
    os.rename(base + ".eml.tmp", base + ".eml")


def addr(arg):
    arg = arg.strip()
    if arg.startswith("<"):
        arg = arg[1:arg.find(">")] if ">" in arg else arg[1:]
    return arg.split()[0] if arg.split() else ""


class Handler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.reply("220 sink.example ESMTP sink")
        sender, rcpts, lmtp = None, [], False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("latin-1").rstrip("\r\n")
            verb = cmd[:4].upper()
            if verb in ("EHLO", "LHLO"):
                lmtp = verb == "LHLO"
                if no_8bitmime:
                    self.wfile.write(b"250-sink.example\r\n250 PIPELINING\r\n")
                else:
                    self.wfile.write(b"250-sink.example\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n")
                self.wfile.flush()
            elif verb == "HELO":
                self.reply("250 sink.example")
            elif verb == "MAIL" and no_8bitmime and "BODY=8BITMIME" in cmd.upper():
                self.reply("555 5.5.4 BODY=8BITMIME not announced")
            elif verb == "MAIL":
                sender, rcpts = addr(cmd[cmd.find(":") + 1:]), []
                self.reply("250 2.1.0 ok")
            elif verb == "RCPT":
                rcpts.append(addr(cmd[cmd.find(":") + 1:]))
                self.reply("250 2.1.5 ok")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                chunks = []
                while True:
                    l = self.rfile.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b"."):
                        l = l[1:]
                    chunks.append(l)
                save(sender, rcpts, b"".join(chunks))
                for _ in (rcpts if lmtp else [None]):
                    self.reply("250 2.0.0 saved")
                sender, rcpts = None, []
            elif verb == "RSET":
                sender, rcpts = None, []
                self.reply("250 2.0.0 ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 bye")
                return
            else:
                self.reply("502 5.5.2 not implemented")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


with Server(("127.0.0.1", port), Handler) as server:
    print("ready", flush=True)
    server.serve_forever()
