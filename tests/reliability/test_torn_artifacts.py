"""Torn artifacts: a real `tailor train` is SIGKILLed at random moments, some while it writes its
artifact, while the served app hot-reloads as fast as it can and answers requests. No request
fails, every version served is complete, and a damaged artifact file is refused."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import admin_client

from tailor.artifacts import (
    TEMP_PREFIX,
    current_version,
    list_versions,
    load_artifact,
    read_manifest,
    switch_current,
)
from tailor.engine import Engine
from tailor.errors import ArtifactError
from tailor.ingest.synthetic import generate_shop
from tailor.settings import Role, Settings, load_settings

KILLS_AT_RANDOM = 2  # anywhere in the run: start-up, loading, fitting, writing
KILLS_WHILE_WRITING = 3  # as soon as the temporary artifact directory appears
TRAIN_TIMEOUT = 120.0
TRAIN = {"models": ["popular", "itemknn"], "ranker": {"enabled": False}}  # quick to fit
# the requests below run in a closed loop: on a quiet machine faster than an admin key may ask
UNLIMITED = {role.value: {"per_second": 1_000_000, "burst": 1_000_000} for role in Role}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A small shop with a first version trained (this module's own: light, so the many
    trainings stay quick)."""
    settings = load_settings(
        store_url=f"sqlite:///{tmp_path}/tailor.db",
        artifacts_dir=tmp_path / "artifacts",
        train=TRAIN,
        service={"rate_limits": UNLIMITED},
    )
    shop = generate_shop(60, 30, days=10, seed=3)
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        engine.train(evaluate=False)
    return settings


def tailor_train(settings: Settings) -> subprocess.Popen:
    env = {
        **os.environ,
        "TAILOR_STORE_URL": settings.store_url,
        "TAILOR_ARTIFACTS_DIR": str(settings.artifacts_dir),
        "TAILOR_TRAIN": json.dumps(TRAIN),
    }
    tailor = Path(sys.executable).with_name("tailor")
    return subprocess.Popen(
        [str(tailor), "train", "--no-evaluate"],
        env=env,
        cwd=settings.artifacts_dir.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def train_to_the_end(settings: Settings) -> float:
    start = time.monotonic()
    job = tailor_train(settings)
    _, errors = job.communicate(timeout=TRAIN_TIMEOUT)
    assert job.returncode == 0, errors.decode(errors="replace")[-2000:]
    return time.monotonic() - start


def temp_dirs(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.name.startswith(TEMP_PREFIX) and p.is_dir()}


def kill_while_writing(settings: Settings, rng: random.Random) -> bool:
    """Start a training and SIGKILL it within 20 ms of its temporary directory appearing.
    True if it was still running (so killed midway through writing)."""
    before = temp_dirs(settings.artifacts_dir)
    job = tailor_train(settings)
    deadline = time.monotonic() + TRAIN_TIMEOUT
    while job.poll() is None and time.monotonic() < deadline:
        if temp_dirs(settings.artifacts_dir) - before:
            time.sleep(rng.uniform(0.0, 0.02))
            break
        time.sleep(0.001)
    return kill(job)


def kill(job: subprocess.Popen) -> bool:
    running = job.poll() is None
    job.send_signal(signal.SIGKILL)
    job.wait()
    return running


class ServedUnderReload:
    """The app answering recommendation requests from one thread while another calls the hot
    reload (what the service's watcher calls every few seconds) every 10 ms."""

    def __init__(self, settings: Settings, users: list[str]) -> None:
        self.client = admin_client(settings)
        self.users = users
        self.answers: Counter[int] = Counter()
        self.served: set[str] = set()
        # Complete versions as the reloads saw them: a version served, then pruned by retention
        # when later trainings complete (a randomly killed one may finish first), was complete.
        self.complete: set[str] = set()
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._ask), threading.Thread(target=self._reload)]

    @property
    def engine(self) -> Engine:
        return self.client.app.state.engine

    def _ask(self) -> None:
        n = 0
        while not self.stop.is_set():
            user = self.users[n % len(self.users)]
            n += 1
            answer = self.client.get(f"/v1/users/{user}/recommendations")
            self.answers[answer.status_code] += 1
            if answer.status_code != 200:
                self.failures.append(f"{answer.status_code}: {answer.text[:300]}")
            else:
                self.served.add(answer.json()["model_version"])

    def _reload(self) -> None:
        while not self.stop.wait(0.01):
            try:
                self.engine.reload_if_changed()
                self.complete.update(list_versions(self.engine.settings.artifacts_dir))
            except Exception as exc:  # noqa: BLE001 (any failure of the reload is what we look for)
                self.failures.append(f"reload: {exc!r}")

    def __enter__(self) -> ServedUnderReload:
        self.client.__enter__()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        self.client.__exit__(*exc_info)


@pytest.mark.slow  # seven `tailor train` processes: ~20 s on an idle machine
def test_training_killed_midway_never_breaks_serving(settings: Settings) -> None:
    rng = random.Random(7)
    root = settings.artifacts_dir
    first = current_version(root)
    with Engine(settings) as engine:
        users = engine.store.users()["user_id"].astype(str).tolist()
    with ServedUnderReload(settings, users) as served:
        full_run = train_to_the_end(settings)
        midway = [kill_while_writing(settings, rng) for _ in range(KILLS_WHILE_WRITING)]
        for _ in range(KILLS_AT_RANDOM):
            job = tailor_train(settings)
            time.sleep(rng.uniform(0.0, full_run))
            kill(job)
        train_to_the_end(settings)
        last = current_version(root)
        deadline = time.monotonic() + 10
        while served.engine.version != last and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # a few answers from the last version
    assert not served.failures, served.failures[:5]
    assert served.answers[200] > 50 and set(served.answers) == {200}
    assert sum(midway) >= 1, "no training was still running when its write began to be killed"
    assert temp_dirs(root), "the killed writes left no temporary directory to skip"
    assert served.engine.version == last != first
    complete = set(list_versions(root))
    assert served.served <= served.complete | complete | {first}, served.served - complete
    for version in complete:
        read_manifest(root / version, verify_checksums=True)
    assert load_artifact(root).version == last


def flip_one_byte(file: Path) -> None:
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))


def test_a_truncated_or_corrupted_artifact_file_is_refused(settings: Settings) -> None:
    root = settings.artifacts_dir
    good = current_version(root)
    with Engine(settings) as engine:
        damaged = engine.train(evaluate=False).version
    arrays = next((root / damaged / "models").rglob("*.npz"))
    flip_one_byte(arrays)  # same size: only the checksum tells
    read_manifest(root / damaged)
    with pytest.raises(ArtifactError, match="corrupt.*checksum"):
        load_artifact(root, damaged)
    # the current version is damaged: the newest complete one is served instead
    assert load_artifact(root).version == good
    catalogue = root / damaged / "catalogue.parquet"
    catalogue.write_bytes(catalogue.read_bytes()[:-7])
    with pytest.raises(ArtifactError, match="torn"):
        load_artifact(root, damaged)


def test_a_reload_onto_a_damaged_version_keeps_serving_the_old_one(settings: Settings) -> None:
    root = settings.artifacts_dir
    with admin_client(settings) as client:
        engine = client.app.state.engine
        served = engine.version
        with Engine(settings) as trainer:
            damaged = trainer.train(evaluate=False).version
        switch_current(root, served)
        assert not engine.reload_if_changed()
        flip_one_byte(root / damaged / "items.json")
        switch_current(root, damaged)
        with pytest.raises(ArtifactError, match="corrupt"):
            engine.reload_if_changed()  # the service's watcher logs this and keeps going
        assert engine.version == served
        answer = client.get("/v1/users/u1/recommendations")
        assert answer.status_code == 200 and answer.json()["model_version"] == served
