#!/usr/bin/env python3
"""What a NAT does to a UDP flow's source, for the lab (lab_nat_mapping in mesh-lab.sh).

udpprobe.py listen PORT SECONDS: waits (SECONDS at most) for one datagram on PORT and prints the
    address and port it came from, ip:port; exits 1 when none came.
udpprobe.py send PORT SECONDS DEST...: from PORT, sends a datagram to every DEST (ip:port) every
    0.1 s for SECONDS, so a listener that starts a moment late still hears one.
IPv4 only: the lab's NATs are IPv4's.
"""
import socket
import sys
import time


def listen(port, seconds):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", port))
        sock.settimeout(seconds)
        try:
            _, (host, source_port) = sock.recvfrom(64)
        except socket.timeout:
            sys.exit(1)
        print(f"{host}:{source_port}")


def send(port, seconds, destinations):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", port))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for destination in destinations:
                host, _, dest_port = destination.rpartition(":")
                try:
                    sock.sendto(b"probe", (host, int(dest_port)))
                except OSError:
                    pass  # an ICMP error from an earlier datagram; the next one is sent anyway
            time.sleep(0.1)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "listen":
        listen(int(args[0]), float(args[1]))
    elif command == "send":
        send(int(args[0]), float(args[1]), args[2:])
    else:
        sys.exit("usage: udpprobe.py listen PORT SECONDS | send PORT SECONDS DEST...")
