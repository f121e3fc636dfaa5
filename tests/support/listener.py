"""A loopback TCP listener that counts connections and answers none: proof that a command sent nothing."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class CountingListener:
    """``base_url`` points at it; ``connections`` counts every connection accepted (each closed at once)."""

    base_url: str
    connections: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _accepted(self) -> None:
        with self._lock:
            self.connections += 1


@contextmanager
def counting_listener() -> Iterator[CountingListener]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)
    listener = CountingListener(base_url=f"http://127.0.0.1:{server.getsockname()[1]}")
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            listener._accepted()
            connection.close()

    thread = threading.Thread(target=accept, name="counting-listener", daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(5)
        server.close()
