"""A resolver that never answers for one zone: a UDP relay in front of nsd
that forwards every query except those under DEAD_ZONE, which it drops (a
name server that died, as a recursive resolver in front of it shows it).
    dns_relay.py LISTEN_PORT UPSTREAM_PORT DEAD_ZONE
"""
import select
import socket
import sys


def qname(packet):
    labels, i = [], 12
    while i < len(packet) and packet[i] != 0:
        n = packet[i]
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace").lower())
        i += 1 + n
    return ".".join(labels)


def main():
    listen_port, upstream_port, dead = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].lower().rstrip(".")
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.1", listen_port))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.bind(("127.0.0.1", 0))
    clients = {}  # query id -> client address
    while True:
        ready, _, _ = select.select([front, back], [], [])
        if front in ready:
            packet, client = front.recvfrom(65535)
            name = qname(packet)
            if len(packet) >= 12 and not (name == dead or name.endswith("." + dead)):
                clients[packet[:2]] = client
                back.sendto(packet, ("127.0.0.1", upstream_port))
        if back in ready:
            packet, _ = back.recvfrom(65535)
            client = clients.pop(packet[:2], None)
            if client:
                front.sendto(packet, client)


if __name__ == "__main__":
    main()
