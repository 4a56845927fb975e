"""One connection per process: Serf's msgpack RPC or smegd's control API, polled the same way."""

import asyncio
import json
import time

from bench.msgpack import Incomplete, pack, text, unpack


class SerfTarget:
    """Serf's RPC: a handshake, then request header + body, response header (+ body)."""

    def __init__(self, address: str):
        host, port = address.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.reader = self.writer = None
        self.buffer = b""
        self.seq = 0

    async def connect(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.buffer = b""
        await self._call("handshake", {"Version": 1}, has_body=False)

    async def _read_value(self):
        while True:
            try:
                value, used = unpack(self.buffer)
                self.buffer = self.buffer[used:]
                return value
            except Incomplete:
                chunk = await self.reader.read(65536)
                if not chunk:
                    raise ConnectionError("serf closed the RPC connection")
                self.buffer += chunk

    async def _call(self, command, body, has_body=True):
        self.seq += 1
        # A command without a request body (stats) sends the header alone.
        self.writer.write(pack({"Command": command, "Seq": self.seq}) + (b"" if body is None else pack(body)))
        await self.writer.drain()
        header = await self._read_value()
        if header.get("Error"):
            raise RuntimeError(f"serf {command}: {header['Error']}")
        return await self._read_value() if has_body else None

    async def members(self, name=None, status=None):
        body = {"Tags": {}, "Status": status or "", "Name": name or ""}
        reply = await self._call("members-filtered", body)
        return reply.get("Members") or []

    async def status_of(self, name):
        """The Serf status of member NAME (alive, leaving, left, failed) or None if unlisted."""
        self.last = None
        for member in await self.members(name=f"^{name}$"):
            if text(member.get("Name")) == name:
                self.last = text(member.get("Status"))
        return self.last

    async def live_count(self):
        """Live members from Serf's own counters (`stats`: members less failed and left), a
        reply of a few hundred bytes: polling 100 agents every 0.1 s with `members-filtered`
        would decode 100 members per reply and take a core away from the agents being timed."""
        stats = (await self._call("stats", None, has_body=True)).get("serf") or {}
        counts = {text(key): int(text(value)) for key, value in stats.items()
                  if text(key) in ("members", "failed", "left")}
        self.last = counts.get("members", 0) - counts.get("failed", 0) - counts.get("left", 0)
        return self.last

    def close(self):
        if self.writer:
            self.writer.close()


class SmegdTarget:
    """smegd's control API: HTTP/1.1 on a Unix socket, one keep-alive connection."""

    def __init__(self, path: str):
        self.path = path
        self.reader = self.writer = None

    async def connect(self):
        self.reader, self.writer = await asyncio.open_unix_connection(self.path)

    async def _get(self, path):
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: smegd\r\n\r\n".encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.decode().split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        if b"Connection: close" in head:
            self.close()
            await self.connect()
        return json.loads(body)

    async def mesh(self):
        meshes = (await self._get("/v1/meshes")).get("meshes") or []
        return meshes[0] if meshes else {"members": 0, "isLeader": False}

    async def live_count(self):
        self.last = (await self.mesh())["members"]
        return self.last

    def close(self):
        if self.writer:
            self.writer.close()


def load_targets(system, path):
    targets = []
    with open(path) as file:
        for line in file:
            if line.strip():
                index, address = line.split()
                target = SerfTarget(address) if system == "serf" else SmegdTarget(address)
                target.index = int(index)
                targets.append(target)
    return targets


async def connect_all(targets, timeout=30.0):
    async def one(target):
        deadline = time.monotonic() + timeout
        while True:
            try:
                await target.connect()
                return
            except (OSError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    await asyncio.gather(*(one(t) for t in targets))
