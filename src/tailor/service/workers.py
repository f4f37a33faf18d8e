"""Several server processes on one port, with the kernel spreading connections evenly.

A request holds the GIL for most of its work, so one process uses about one core. `uvicorn
--workers` shares one listening socket between its processes, and whichever is idle when
keep-alive connections arrive accepts them all: measured at 100k x 100k, one of two workers
took all 32 connections of the load and the other none. Here each worker listens on a socket of
its own with SO_REUSEPORT, so Linux spreads new connections across the workers by a hash of
their addresses. Each worker opens its own engine on the shared store and artifacts directory.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import socket
from types import FrameType

from tailor.settings import Settings

BACKLOG = 2048


def serve_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    """Run `workers` server processes until interrupted or terminated, then stop them all."""
    context = mp.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(settings, host, port), name=f"tailor-worker-{n}")
        for n in range(workers)
    ]

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.join()
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # uvicorn finishes the requests in flight first
        for process in processes:
            process.join(timeout=30)


def _worker(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from tailor.service.app import create_app
    from tailor.service.logs import configure_json_logging

    configure_json_logging()
    config = uvicorn.Config(
        create_app(settings), log_level="warning", log_config=None, access_log=False
    )
    uvicorn.Server(config).run(sockets=[_listening_socket(host, port)])


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock
