"""Neighbours that misbehave, on real loopback sockets: a server that accepts every
connection and never says a word (a hung processor, database, Redis, SMTP or IMAP
server), and a port where nothing listens (connections refused at once)."""

import socket
import threading


class SilentServer:
    """Accepts TCP connections on loopback and never sends a byte. `connections` holds
    every connection it accepted, so tests can count the attempts."""

    def __init__(self, port=0):
        self.sock = socket.create_server(("127.0.0.1", port))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(conn)

    def close(self):
        self.stopping.set()
        self.thread.join()
        self.sock.close()
        for conn in self.connections:
            conn.close()


def closed_port():
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]
