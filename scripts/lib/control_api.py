#!/usr/bin/env python3
"""Hostile clients of smegd's control socket (HTTP over a Unix socket), for hostile-test.sh.

  big-response SOCKET PATH MIN_BYTES   a GET with Connection: close, read to the end; passes when
                                       the whole body (Content-Length) arrives and parses as JSON
  connection-flood SOCKET COUNT HOLD   opens COUNT connections at once and holds them HOLD seconds
  slow-headers SOCKET INTERVAL LIMIT   sends request headers one byte every INTERVAL seconds;
                                       passes when the daemon cuts the connection within LIMIT
Each prints one line saying what happened and exits 0 on a pass, 1 on a failure.
"""
import json
import resource
import socket
import sys
import time


def connect(path, timeout=10):
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    client.connect(path)
    return client


def big_response(path, target, minimum):
    client = connect(path, timeout=30)
    client.sendall(f"GET {target} HTTP/1.1\r\nHost: smegd\r\nConnection: close\r\n\r\n".encode())
    data = bytearray()
    while True:
        chunk = client.recv(1 << 16)
        if not chunk:
            break
        data += chunk
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    status = head.split(b"\r\n")[0].decode(errors="replace")
    declared = int(headers.get(b"content-length", b"-1"))
    try:
        json.loads(body)
        parses = True
    except ValueError:
        parses = False
    print(f"{status}; {len(body)} body bytes read, Content-Length {declared}, JSON parses: {parses}")
    complete = parses and (declared == -1 or declared == len(body))
    return complete and len(body) >= minimum


def connection_flood(path, count, hold):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, count + 64)), hard))
    held, refused = [], 0
    for _ in range(count):
        try:
            client = connect(path, timeout=2)
            client.sendall(b"GET /v1/status HTTP/1.1\r\nHost: smegd\r\n")  # never finished
            held.append(client)
        except OSError:
            refused += 1
    time.sleep(hold)
    for client in held:
        client.close()
    print(f"{len(held)} connections held for {hold} s, {refused} refused")
    return True


def slow_headers(path, interval, limit):
    client = connect(path, timeout=limit + 5)
    request = b"GET /v1/status HTTP/1.1\r\nHost: smegd\r\n" + b"X-Slow: " + b"a" * 4096
    started = time.monotonic()
    for byte in request:
        if time.monotonic() - started > limit + 2:
            break
        try:
            client.sendall(bytes([byte]))
        except OSError:
            print(f"cut off after {time.monotonic() - started:.1f} s")
            return time.monotonic() - started <= limit
        client.setblocking(False)
        try:
            if client.recv(4096) == b"":
                print(f"closed by the daemon after {time.monotonic() - started:.1f} s")
                return time.monotonic() - started <= limit
        except BlockingIOError:
            pass
        except OSError:
            print(f"reset by the daemon after {time.monotonic() - started:.1f} s")
            return time.monotonic() - started <= limit
        client.setblocking(True)
        time.sleep(interval)
    print(f"still connected after {time.monotonic() - started:.1f} s of one byte per {interval} s")
    return False


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "big-response":
        ok = big_response(args[0], args[1], int(args[2]))
    elif command == "connection-flood":
        ok = connection_flood(args[0], int(args[1]), float(args[2]))
    elif command == "slow-headers":
        ok = slow_headers(args[0], float(args[1]), float(args[2]))
    else:
        sys.exit(__doc__)
    sys.exit(0 if ok else 1)
