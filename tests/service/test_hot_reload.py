"""Hot reload under load: a real `tailor serve` on loopback keeps answering every request while a
new artifact is trained and switched, and serves the new version afterwards."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from service_setup import add_key, bearer

from tailor.engine import Engine
from tailor.settings import Role

CLIENTS = 4
MAX_REQUESTS = 20_000  # bound per client, beside the time bound
MAX_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(settings, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "TAILOR_STORE_URL": settings.store_url,
        "TAILOR_ARTIFACTS_DIR": str(settings.artifacts_dir),
        "TAILOR_TRAIN__MODELS": json.dumps(settings.train.models),
        "TAILOR_SERVICE__RATE_LIMITS": json.dumps({"read": {"per_second": 1e6, "burst": 10**6}}),
    }
    tailor = Path(sys.executable).with_name("tailor")
    command = [str(tailor), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, cwd=log.parent, stdout=out, stderr=out)


def wait_for_version(port: int, server: subprocess.Popen, log: Path, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()[-2000:]
        try:
            version = httpx.get(f"http://127.0.0.1:{port}/healthz").json()["model_version"]
            if version:
                return version
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"no model served within {seconds} s: {log.read_text()[-2000:]}")


class Load:
    """Client threads asking for recommendations until stopped (or their bounds are reached),
    counting each answer by (status, model_version) and each broken connection."""

    def __init__(self, port: int, key: str, users: list[str]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.key, self.users = key, users
        self.answers: Counter[tuple[int, str | None]] = Counter()
        self.broken: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(c,)) for c in range(CLIENTS)]

    def _client(self, client: int) -> None:
        deadline = time.monotonic() + MAX_SECONDS
        with httpx.Client(base_url=self.url, headers=bearer(self.key), timeout=30.0) as http:
            for n in range(MAX_REQUESTS):
                if self.stop.is_set() or time.monotonic() > deadline:
                    return
                user = self.users[(n * CLIENTS + client) % len(self.users)]
                try:
                    answer = http.get(f"/v1/users/{user}/recommendations")
                    found = (answer.status_code, answer.json().get("model_version"))
                except (httpx.HTTPError, ValueError) as exc:
                    with self.lock:
                        self.broken.append(repr(exc))
                    continue
                with self.lock:
                    self.answers[found] += 1

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


@pytest.mark.slow
def test_a_new_version_is_switched_under_load_without_a_failed_request(settings, shop, tmp_path):
    key = add_key(settings, Role.read)
    users = shop.users["user_id"].astype(str).tolist()
    port, log = free_port(), tmp_path / "server.log"
    server = serve(settings, port, log)
    try:
        old = wait_for_version(port, server, log, 60)
        with Load(port, key, users) as load:
            time.sleep(0.5)
            with Engine(settings) as trainer:
                new = trainer.train(evaluate=False).version
            deadline = time.monotonic() + 15
            while load.answers[(200, new)] < 50 and time.monotonic() < deadline:
                time.sleep(0.1)
        current = httpx.get(f"http://127.0.0.1:{port}/healthz").json()["model_version"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not load.broken, load.broken[:3]
    assert set(load.answers) == {(200, old), (200, new)}, load.answers
    assert load.answers[(200, old)] >= 10 and load.answers[(200, new)] >= 50
    assert old != new == current
