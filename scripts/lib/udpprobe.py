#!/usr/bin/env python3
"""Where a UDP datagram arrives from, for the lab (lab_udp_probe in mesh-lab.sh): what a NAT maps
a flow to, and what a firewall lets through.

udpprobe.py listen PORT SECONDS: waits (SECONDS at most) for one datagram on PORT and prints the
    address and port it came from, ip:port ([ip]:port for IPv6); exits 1 when none came.
udpprobe.py send PORT SECONDS DEST...: from PORT, sends a datagram to every DEST (ip:port or
    [ip]:port) every 0.1 s for SECONDS, so a listener that starts a moment late still hears one.
One dual-stack socket either way: IPv4 as IPv4-mapped IPv6.
"""
import ipaddress
import socket
import sys
import time


def bound(port):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    return sock


def listen(port, seconds):
    with bound(port) as sock:
        sock.settimeout(seconds)
        try:
            _, source = sock.recvfrom(64)
        except socket.timeout:
            sys.exit(1)
        address = ipaddress.IPv6Address(source[0])
        if address.ipv4_mapped:
            print(f"{address.ipv4_mapped}:{source[1]}")
        else:
            print(f"[{address}]:{source[1]}")


def send(port, seconds, destinations):
    targets = []
    for destination in destinations:
        host, _, dest_port = destination.rpartition(":")
        address = ipaddress.ip_address(host.strip("[]"))
        mapped = f"::ffff:{address}" if address.version == 4 else str(address)
        targets.append((mapped, int(dest_port)))
    with bound(port) as sock:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for target in targets:
                try:
                    sock.sendto(b"probe", target)
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
