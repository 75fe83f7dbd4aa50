"""A TCP proxy on loopback counting the bytes a server sends through it: what a client was sent, which a measure of its
memory does not show (a body read and dropped holds little, and costs the whole transfer all the same)."""

import socket
import threading


class CountingProxy:
    """Each connection made to `url` forwarded to the server at `target` (host, port); `sent`: the bytes the server's
    answers carried to the clients so far. Its sockets' buffers are small (BUFFER), and a client's window grows only as
    it reads, so what a client does not read is mostly never sent: what a client closes without reading counts a few
    buffers at most (some hundreds of KiB), whatever the server had to send."""

    BUFFER = 64 * 1024

    def __init__(self, target: tuple[str, int]):
        self.target, self.sent, self._lock = target, 0, threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            upstream = socket.socket()
            upstream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.BUFFER)  # before connecting: its window
            client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.BUFFER)
            try:
                upstream.connect(self.target)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, counted: bool) -> None:
        try:
            while data := source.recv(self.BUFFER):
                sink.sendall(data)
                if counted:
                    with self._lock:
                        self.sent += len(data)
        except OSError:
            pass  # either end closed
        finally:
            for end in (source, sink):  # one end done: both are
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes its accept (a close alone does not, on Linux)
        self._listener.close()
        self._thread.join()
