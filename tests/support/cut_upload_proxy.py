"""A TCP proxy in front of an S3 server that holds the Nth PUT halfway through its body, so a
test can SIGKILL the uploading process while the upload is on the wire."""

from __future__ import annotations

import socket
import threading


class CutUploadProxy:
    def __init__(
        self,
        upstream: tuple[str, int],
        cut_put: int,
        forward_bytes: int = 2_000,
        key_part: bytes = b".parquet",
    ) -> None:
        self.upstream = upstream
        self.cut_put = cut_put  # the PUT (1-based) of a key holding ``key_part`` to hold
        self.key_part = key_part
        self.forward_bytes = forward_bytes  # bytes of that request passed on before holding it
        self.puts = 0
        self.cut = threading.Event()  # set once the held PUT is mid-body
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closed.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _requests(self, source: socket.socket, target: socket.socket) -> None:
        """Client to server: pass bytes on, except past the cut point of the chosen PUT."""
        budget: int | None = None  # bytes still passed on of the held PUT
        while True:
            try:
                data = source.recv(65_536)
            except OSError:
                data = b""
            if not data:
                break
            if budget is None and b"PUT /" in data and self.key_part in data:
                with self._lock:
                    self.puts += 1
                    if self.puts == self.cut_put:
                        budget = self.forward_bytes
            if budget is not None:
                data, budget = data[:budget], max(0, budget - len(data))
                if budget == 0:
                    self.cut.set()
            if data:
                try:
                    target.sendall(data)
                except OSError:
                    break
        for sock in (source, target):
            sock.close()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65_536)
                if not data:
                    break
                target.sendall(data)
            except OSError:
                break
        for sock in (source, target):
            sock.close()
