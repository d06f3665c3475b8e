"""A small asyncio HTTP/1.1 keep-alive client for the load benchmarks, and ``profiler serve`` in a child process.

The load generators share the machine's two cores with the server they measure, so they must cost little:
one event loop drives every simulated person (no thread each, no ``http.client`` per request), each person
with their own keep-alive connection and cookie. Only what the benchmarks send and the app answers is
understood: a status line, headers, and a body of ``Content-Length`` bytes or in chunks.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

PROJECT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names; the last value of a repeated header
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Connection:
    """One keep-alive connection to ``127.0.0.1:port`` with its own cookie jar (one cookie per name)."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None):
        self.port = port
        self.cookies = dict(cookies or {})
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        if self._streams is None:
            self._streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self._streams
        body = b"" if form is None else urlencode(form).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if form is not None:
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Origin: http://127.0.0.1:{self.port}"]
        lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in head[1:]:
            if line:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip()
                headers[name] = value
                if name == "set-cookie":
                    cookie, _, _ = value.partition(";")
                    key, _, val = cookie.partition("=")
                    self.cookies[key.strip()] = val.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            await reader.readuntil(b"\r\n")
            data = b"".join(chunks)
        else:
            data = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Reply(status, headers, data)

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """The server process: its port, its pid, and the CPU seconds (user + system) it used, known once it
    has stopped, with what it wrote to stderr."""

    port: int
    pid: int
    cpu_seconds: float = float("nan")
    errors: str = ""  # what it wrote to stderr (tracebacks of failed requests)

    def cpu_now(self) -> float:
        """CPU seconds (user + system) the running server has used so far (Linux: /proc; NaN elsewhere), so
        that a load's share can be told from the start-up's (imports, opening the store)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(location: str, secret_file: Path, *extra: str) -> Iterator[Server]:
    """``profiler serve`` on ``location`` in a child process until the block ends (stopped with Ctrl-C, as a
    user stops it); its CPU time is filled in afterwards (``getrusage`` of the waited child)."""
    port = free_port()
    log = tempfile.TemporaryFile()  # the server's errors (a pipe nobody reads would stop it when full)
    env = {**os.environ, "PROFILER_DB": location}
    env.pop("PROFILER_SECRET_KEY", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen([sys.executable, "-m", "profiler", "serve", "--port", str(port), "--secret-file",
                                str(secret_file), "--webhook-interval", "0", "--log-level", "error", *extra],
                               cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    server = Server(port, process.pid)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"profiler serve did not start: {log.read().decode()}") from None
                time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.seek(0)
        server.errors = log.read().decode(errors="replace")
        log.close()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server.cpu_seconds = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
