"""`tailor serve --workers N`: every worker listens on the same port through a socket of its own."""

from __future__ import annotations

import socket

from tailor.service.workers import _listening_socket


def test_workers_can_each_listen_on_the_same_port() -> None:
    first = _listening_socket("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = _listening_socket("127.0.0.1", port)
    try:
        assert second.getsockname()[1] == port
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass  # the kernel hands the connection to one of the two listeners
    finally:
        first.close()
        second.close()
