"""A milter client (the MTA's side of protocol version 6), as Postfix speaks it,
for driving mtasd directly in tests. Standard library only."""
import socket
import struct

SMFIF_ADDHDRS, SMFIF_CHGHDRS, SMFIF_SETSYMLIST = 0x01, 0x10, 0x100
SMFIP_NOCONNECT, SMFIP_NOMAIL = 0x01, 0x04
ALL_ACTIONS = 0x1FF
ALL_PROTOCOL = 0x1FFFFF


class Milter:
    def __init__(self, path, timeout=10):
        """path: a unix socket's path, or (host, port) for TCP."""
        family = socket.AF_INET if isinstance(path, tuple) else socket.AF_UNIX
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.protocol = 0

    def send(self, command, data=b""):
        self.sock.sendall(struct.pack(">I", len(data) + 1) + command + data)

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError("milter closed the connection")
            out += chunk
        return out

    def reply(self):
        (length,) = struct.unpack(">I", self.recv_exact(4))
        body = self.recv_exact(length)
        return body[:1], body[1:]

    def negotiate(self, actions=ALL_ACTIONS, protocol=ALL_PROTOCOL):
        """-> (actions, protocol, macro lists as {stage: names})"""
        self.send(b"O", struct.pack(">III", 6, actions, protocol))
        cmd, data = self.reply()
        assert cmd == b"O", cmd
        _, got_actions, got_protocol = struct.unpack(">III", data[:12])
        self.protocol = got_protocol
        lists, rest = {}, data[12:]
        while rest:
            (stage,) = struct.unpack(">I", rest[:4])
            names, _, rest = rest[4:].partition(b"\0")
            lists[stage] = names.decode()
        return got_actions, got_protocol, lists

    def message(self, headers, body, client_addr=None, sender="a@example.org", rcpt="b@example.net"):
        """Sends one message as Postfix would with the no-reply flags set;
        returns the replies to the end of the message, the final one last."""
        self.envelope(client_addr, sender, rcpt)
        self.send_content(headers, body)
        return self.end_of_message()

    def envelope(self, client_addr, sender, rcpt):
        """As Postfix does: without the MAIL event (SMFIP_NOMAIL), the
        macros asked for come with RCPT."""
        if self.protocol & SMFIP_NOMAIL:
            macros = b"{mail_addr}\0" + sender.encode() + b"\0"
            if client_addr is not None:
                macros += b"{client_addr}\0" + client_addr.encode() + b"\0"
            self.send(b"D", b"R" + macros)
        else:
            self.send(b"M", b"<" + sender.encode() + b">\0")
        self.send(b"R", b"<" + rcpt.encode() + b">\0")

    def send_content(self, headers, body):
        for name, value in headers:
            self.send(b"L", name.encode() + b"\0 " + value.encode() + b"\0")
        self.send(b"N")
        self.send(b"B", body)

    def end_of_message(self):
        self.send(b"E")
        replies = []
        while True:
            cmd, data = self.reply()
            replies.append((cmd, data))
            if cmd in (b"c", b"a", b"r", b"t", b"y"):
                return replies

    def close(self):
        try:
            self.send(b"Q")
        except OSError:
            pass
        self.sock.close()
