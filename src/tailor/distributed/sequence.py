"""The sequence Transformer trained by Ray Train: torch DistributedDataParallel on CPU (gloo).

Every worker builds the same network from the same seed and walks the same batches; each
trains on its share of every batch (`Replica.share`) and DDP averages the gradients, so one
step moves the weights as the whole batch would on one machine. Dropout masks and sampled
negatives are drawn per worker, so the result matches one machine's statistically (the
metrics agree within the tolerance in docs/distributed.md), not bit for bit. Worker 0 saves
the fitted model as a Ray Train checkpoint; the driver loads it back.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from tailor.data.dataset import Dataset
from tailor.distributed import require_ray
from tailor.models.sequence_training import Replica
from tailor.models.transformer import SequenceTransformer

MODEL_DIR = "model"


def fit_transformer(
    model: SequenceTransformer, data: Dataset, *, workers: int, storage: str | Path
) -> SequenceTransformer:
    """`model` fitted on `data` by `workers` Ray Train workers; `storage` holds the run's
    checkpoints (a directory every node can reach, or a cloud URI, on a multi-machine cluster)."""
    ray = require_ray()
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    trainer = TorchTrainer(
        _train_worker,
        train_loop_config={"params": model.params.model_dump(), "data": ray.put(data)},
        torch_config=TorchConfig(backend="gloo"),
        scaling_config=ScalingConfig(
            num_workers=workers, use_gpu=False, resources_per_worker={"CPU": model.params.threads}
        ),
        run_config=RunConfig(storage_path=str(Path(storage).resolve())),
    )
    result = trainer.fit()
    with result.checkpoint.as_directory() as folder:
        return SequenceTransformer.load(Path(folder) / MODEL_DIR)


def _train_worker(config: dict[str, Any]) -> None:
    import ray
    import ray.train
    from torch.nn.parallel import DistributedDataParallel

    context = ray.train.get_context()
    replica = Replica(context.get_world_rank(), context.get_world_size())
    model = SequenceTransformer(**config["params"])
    model.fit_replica(ray.get(config["data"]), replica, DistributedDataParallel)
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = None
        if replica.rank == 0:
            model.save(Path(folder) / MODEL_DIR)
            checkpoint = ray.train.Checkpoint.from_directory(folder)
        ray.train.report({"best_epoch": model.best_epoch_}, checkpoint=checkpoint)
