"""Serving the emulator over real HTTP: in a background thread (tests, demo) or blocking (CLI)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType

import httpx
import uvicorn

from .app import DroppedConnection, Emulator


def parse_store_arg(value: str) -> tuple[str, str]:
    """``"HASH=TOKEN"`` -> ``("HASH", "TOKEN")``; ValueError with a clear message otherwise."""
    store_hash, sep, token = value.partition("=")
    store_hash, token = store_hash.strip(), token.strip()
    if not sep or not store_hash or not token:
        raise ValueError(
            f"invalid store {value!r}: expected HASH=TOKEN, e.g. --store abc123=secret-token"
        )
    if "/" in store_hash or any(ch.isspace() for ch in store_hash):
        raise ValueError(f"invalid store hash {store_hash!r}: no '/' or spaces allowed")
    return store_hash, token


class _QuietDrops(logging.Filter):
    """Injected dropped connections end a request with an exception; don't log them as errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


def _config(
    emulator: Emulator, host: str, port: int, tls: tuple[str, str] | None = None
) -> uvicorn.Config:
    uvicorn_error = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in uvicorn_error.filters):
        uvicorn_error.addFilter(_QuietDrops())
    return uvicorn.Config(
        emulator.app,
        host=host,
        port=port,
        interface="asgi3",
        lifespan="off",
        log_level="warning",
        access_log=False,
        # A client keeping a TLS connection open (as requests' sessions do) would otherwise
        # hold a stopping server until the connection's shutdown times out.
        timeout_graceful_shutdown=2,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )


class RunningServer:
    """An emulator served by uvicorn on a background thread. Use as a context manager."""

    def __init__(self, emulator: Emulator, host: str, port: int) -> None:
        self.emulator = emulator
        self.host = host
        self._socket = listen(host, port)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._server = uvicorn.Server(_config(emulator, host, self.port))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self, timeout: float = 10.0) -> RunningServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if (
                    httpx.get(
                        f"{self.url}/__emulator/health", timeout=1.0, trust_env=False
                    ).status_code
                    == 200
                ):
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"the emulator did not start on {self.url} within {timeout} s")

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_server(emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve ``emulator`` on ``host:port`` (0 = a free port) in the background; returns once
    ``/__emulator/health`` answers."""
    return RunningServer(emulator, host, port).start()


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``; OSError (e.g. address already in use) when it cannot be,
    so ``serve``'s caller fails before printing anything about a server that will not run."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not the default 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # connections whose socket says it is TCP. With it on, every kept-alive answer written in two
    # parts waited for the client's delayed ACK: 40 ms a request on loopback.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 8765,
    sock: socket.socket | None = None,
    tls: tuple[str, str] | None = None,
) -> None:
    """Serve ``emulator`` in the foreground until interrupted (``stagesync emulator serve``), on
    ``sock`` when given (from ``listen``); over HTTPS with ``tls`` (certificate and key files),
    for clients that only speak HTTPS."""
    server = uvicorn.Server(_config(emulator, host, port, tls))
    server.run(sockets=None if sock is None else [sock])
