"""`SequenceTransformer`: a SASRec-style causal self-attention model over each user's event sequence.

Each event is embedded as item vector + learned position + event kind. The item vector is a
learned id embedding plus a projection of the item's text vector (from `tailor.text`), and the
same table scores the output (weight tying): an item nobody has touched yet still gets a
sensible score from its text. The loss is a softmax cross-entropy over the full catalogue, or
over a few thousand shared uniform negatives (the default: far cheaper on CPU), drawn only
from items with training events.

Cold items (text, no training events; `trained_items_` is False for them) are served by a
text tower trained alongside: its loss repeats the ranking with a random half of the targets
and negatives seen by their text alone. The tower reads the user states without sending
gradients back, so it leaves the fused model as it would be without it. A text-only score is
less sure than a fused one, so raw tower scores almost never reach a top 10. At request time
each user's tower scores are therefore moved onto the fused scale by quantiles: a cold item
whose tower score beats a share q of the trained items' tower scores gets the fused score at
quantile q of the trained items (`_on_fused_scale`).

Training holds out the last event of `validation_users` random users (with at least three
events), scores their NDCG@10 over the full catalogue after every epoch, stops after `patience`
epochs without a better one and keeps the best epoch's weights. With `validation_users=0` it
runs exactly `epochs` epochs on all the data. Two optional limits suit a fixed budget: the
learning rate can warm up over the first epoch and decay linearly to zero at `epochs`
(`lr_schedule`), and `max_train_seconds` stops before an epoch that would end past it.

At request time the model encodes the user's latest `max_len` events from the `UserBatch`, so
a new event changes the recommendations without a refit. A user with no history gets the
training popularity (log counts) as scores.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, Self

import numpy as np
from pydantic import Field, model_validator

from tailor.data.dataset import Dataset
from tailor.errors import NotFittedError
from tailor.models.base import Params, Recommender, cosine_rows
from tailor.models.sequence_net import ItemTable, SequenceEncoder, init_weights, torch
from tailor.models.sequence_training import (
    Holdout,
    Replica,
    TrainingStep,
    last_hidden,
    pad_left,
    train_epoch,
    validation_ndcg,
    warmup_linear_decay,
)
from tailor.text import DEFAULT_ENCODER, encoder
from tailor.types import UserBatch

log = logging.getLogger(__name__)
_NET = "net."  # prefix of the encoder weights in the saved state


class TransformerParams(Params):
    dim: int = Field(64, ge=8)
    layers: int = Field(2, ge=1)
    heads: int = Field(2, ge=1)
    max_len: int = Field(50, ge=2, description="latest events the model reads per user")
    train_windows: Literal["latest", "all"] = Field(
        "latest",
        description="all: also train on the earlier max_len-long windows of longer histories",
    )
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    loss: Literal["sampled", "full"] = "sampled"
    negatives: int = Field(2048, ge=1, description="shared uniform negatives (sampled softmax)")
    epochs: int = Field(40, ge=1, description="most epochs; all of them with validation_users=0")
    patience: int = Field(5, ge=1, description="epochs without a better validation NDCG@10")
    batch_size: int = Field(256, ge=1)
    lr: float = Field(2e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    lr_schedule: Literal["constant", "warmup_linear"] = Field(
        "constant", description="warmup_linear: warm up over epoch 1, then decay to 0 at `epochs`"
    )
    max_train_seconds: float | None = Field(
        None, gt=0, description="stop before an epoch (as long as the last) would end past this"
    )
    text: bool = True
    text_encoder: str = DEFAULT_ENCODER
    text_cache_dir: str | None = None
    validation_users: int = Field(
        2048, ge=0, description="users whose last event is held out for early stopping; 0: none"
    )
    threads: int = Field(1, ge=1, description="torch threads in fit; 1 is faster on busy cores")
    random_state: int = 42

    @model_validator(mode="after")
    def _heads_divide_dim(self) -> TransformerParams:
        if self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be divisible by heads ({self.heads})")
        return self


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class SequenceTransformer(Recommender):
    Params = TransformerParams
    name = "transformer"
    supports_similar_items = True
    handles_cold_items = True

    params: TransformerParams

    def __init__(self, params: TransformerParams | None = None, **kwargs: Any) -> None:
        super().__init__(params, **kwargs)
        self._encoder: SequenceEncoder | None = None
        self._replica, self._wrap = Replica(), _unwrapped

    def fit_replica(
        self, data: Dataset, replica: Replica, wrap: Callable[[torch.nn.Module], torch.nn.Module]
    ) -> Self:
        """Fit as one of `replica.world` data-parallel workers: each runs this on the same data
        and seed, trains on its share of every batch, and `wrap` (torch DDP) averages the
        gradients, so all workers end with the same weights (see `tailor.distributed`)."""
        self._replica, self._wrap = replica, wrap
        try:
            return self.fit(data)
        finally:
            self._replica, self._wrap = Replica(), _unwrapped

    # ---- training ------------------------------------------------------------------------------

    def _fit(self, data: Dataset) -> None:
        p = self.params
        torch.manual_seed(p.random_state)
        rng = np.random.default_rng(p.random_state)
        generator = torch.Generator().manual_seed(p.random_state)
        text = self._item_text_vectors(data) if p.text else None
        items_net = ItemTable(data.n_items, p.dim, text)
        self._encoder = SequenceEncoder(
            p.dim, p.max_len, len(data.kinds), p.layers, p.heads, p.dropout
        )
        init_weights(items_net)
        init_weights(self._encoder)
        seqs, kinds, holdout = _training_sequences(
            data, p.max_len, p.validation_users, rng, every_window=p.train_windows == "all"
        )
        trained = torch.zeros(data.n_items + 1, dtype=torch.bool)  # row 0 is padding
        trained[torch.from_numpy(seqs[seqs > 0])] = True
        with _torch_threads(p.threads):
            self._train(items_net, seqs, kinds, trained, holdout, rng, generator)
        self.trained_items_ = trained[1:].numpy().copy()
        self.item_table_ = _served_table(items_net, trained).numpy().copy()
        self.tower_table_ = _tower_table(items_net).numpy().copy()
        counts = np.bincount(data.items, minlength=data.n_items)
        self.fallback_scores_ = np.log1p(counts).astype(np.float32)
        self.default_kind_ = int(np.bincount(data.kind_codes).argmax()) if data.n_events else 0
        self.n_kinds_ = len(data.kinds)

    def _item_text_vectors(self, data: Dataset) -> np.ndarray:
        p = self.params
        text_encoder = encoder(p.text_encoder, threads=p.threads, cache_dir=p.text_cache_dir)
        return text_encoder.encode(data.item_text())

    def _train(
        self,
        items_net: ItemTable,
        seqs: np.ndarray,
        kinds: np.ndarray,
        trained: torch.Tensor,
        holdout: Holdout | None,
        rng: np.random.Generator,
        generator: torch.Generator,
    ) -> None:
        p = self.params
        assert self._encoder is not None
        modules = TrainingStep(items_net, self._encoder)
        step = self._wrap(modules)
        optimizer = torch.optim.AdamW(modules.parameters(), lr=p.lr, weight_decay=p.weight_decay)
        schedule = (
            warmup_linear_decay(optimizer, -(-len(seqs) // p.batch_size), p.epochs)
            if p.lr_schedule == "warmup_linear"
            else None
        )
        candidates = trained.nonzero().squeeze(1)
        negatives = None if p.loss == "full" or p.negatives >= len(candidates) else p.negatives
        best, best_state, since_best = -1.0, None, 0
        self.train_log_: list[dict[str, float]] = []
        began = time.perf_counter()
        for epoch in range(1, p.epochs + 1):
            start = time.perf_counter()
            loss = train_epoch(
                step, optimizer, seqs, kinds, p.batch_size, candidates, negatives, rng, generator,
                self._replica, schedule,
            )  # fmt: skip
            ndcg = (
                validation_ndcg(_served_table(items_net, trained), self._encoder, holdout)
                if holdout is not None
                else float("nan")
            )
            entry = {
                "epoch": epoch,
                "loss": loss,
                "valid_ndcg10": ndcg,
                "seconds": time.perf_counter() - start,
            }
            self.train_log_.append(entry)
            log.info(
                "epoch %(epoch)d loss %(loss).4f valid NDCG@10 %(valid_ndcg10).4f (%(seconds).1fs)",
                entry,
            )
            if holdout is not None and ndcg > best:
                best, since_best = ndcg, 0
                best_state = {k: v.clone() for k, v in modules.state_dict().items()}
            elif holdout is not None:
                since_best += 1
            if since_best >= p.patience or self._out_of_time(began, entry["seconds"]):
                break
        if best_state is not None:
            modules.load_state_dict(best_state)
        self.best_epoch_ = (
            int(np.argmax([e["valid_ndcg10"] for e in self.train_log_])) + 1 if holdout else epoch
        )

    def _out_of_time(self, began: float, last_epoch_seconds: float) -> bool:
        """Whether another epoch as long as the last one would end past `max_train_seconds`."""
        budget = self.params.max_train_seconds
        return budget is not None and time.perf_counter() - began + last_epoch_seconds > budget

    # ---- serving -------------------------------------------------------------------------------

    def _score(self, users: UserBatch) -> np.ndarray:
        n_items = self.item_table_.shape[0] - 1
        histories, kinds = [], []
        for i, history in enumerate(users.histories):
            history = np.asarray(history, dtype=np.int64)
            known = (history >= 0) & (history < n_items)  # items newer than the model are skipped
            histories.append(history[known])
            kinds.append(
                np.full(int(known.sum()), self.default_kind_)
                if users.kinds is None
                else np.asarray(users.kinds[i])[known]
            )
        scores = np.empty((len(users), n_items), dtype=np.float32)
        rows = np.flatnonzero([len(h) > 0 for h in histories])
        scores[:] = self.fallback_scores_
        if len(rows):
            hidden = self._user_vectors([histories[i] for i in rows], [kinds[i] for i in rows])
            scores[rows] = self._on_fused_scale(hidden, hidden @ self.item_table_[1:].T)
        return scores

    def _on_fused_scale(self, hidden: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Each user's untrained-item (tower) scores mapped onto the quantiles of the user's fused
        scores of trained items, as the tower ranks them among the trained items' tower scores."""
        trained, towers = self.trained_items_, getattr(self, "tower_table_", None)
        if towers is None or not self.params.text or trained.all() or not trained.any():
            return scores  # nothing to move (an artifact saved before the mapping keeps raw scores)
        fused = np.sort(scores[:, trained], axis=1)
        tower = np.sort(hidden @ towers[trained].T, axis=1)
        cold = np.flatnonzero(~trained)
        for row in range(len(scores)):
            scores[row, cold] = np.interp(scores[row, cold], tower[row], fused[row])
        return scores

    def _user_vectors(self, histories: list[np.ndarray], kinds: list[np.ndarray]) -> np.ndarray:
        """The hidden state after each user's latest event: (n, dim)."""
        items = pad_left(histories, self.params.max_len, shift=1)
        kind_codes = np.clip(pad_left(kinds, self.params.max_len), 0, self.n_kinds_ - 1)
        table = torch.from_numpy(self.item_table_)
        return last_hidden(self._net(), table, items, kind_codes).numpy()

    def _similar(self, items: np.ndarray) -> np.ndarray:
        return cosine_rows(self.similarity_vectors(), items)

    def similarity_vectors(self) -> np.ndarray:
        """The served item vectors: fused, or the text tower's for items without events."""
        return self.item_table_[1:]

    def _net(self) -> SequenceEncoder:
        if self._encoder is None:
            raise NotFittedError("the transformer has no network: fit() or load() it first")
        return self._encoder

    # ---- persistence: torch weights as plain numpy arrays ---------------------------------------

    def _get_state(self) -> dict[str, Any]:
        state = super()._get_state()
        state.update({_NET + k: v.numpy().copy() for k, v in self._net().state_dict().items()})
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        weights = {
            k[len(_NET) :]: torch.from_numpy(state.pop(k))
            for k in list(state)
            if k.startswith(_NET)
        }
        super()._set_state(state)
        p = self.params
        self._encoder = SequenceEncoder(
            p.dim, p.max_len, self.n_kinds_, p.layers, p.heads, p.dropout
        )
        self._encoder.load_state_dict(weights)
        self._encoder.eval()


def _unwrapped(step: torch.nn.Module) -> torch.nn.Module:
    return step


@torch.no_grad()
def _served_table(items_net: ItemTable, trained: torch.Tensor) -> torch.Tensor:
    items_net.eval()
    return items_net.served(trained)


@torch.no_grad()
def _tower_table(items_net: ItemTable) -> torch.Tensor:
    """(n_items, dim) text-tower vectors of every item (zeros without text)."""
    if items_net.text_tower is None:
        return torch.zeros_like(items_net.ids.weight[1:])
    items_net.eval()
    return items_net.text_only()[1:]


def _training_sequences(
    data: Dataset,
    max_len: int,
    validation_users: int,
    rng: np.random.Generator,
    every_window: bool = False,
) -> tuple[np.ndarray, np.ndarray, Holdout | None]:
    """Padded (n, max_len + 1) training sequences, with the last event of a sample of users held
    out. One row per user holds their latest events; with `every_window`, a longer history also
    gives rows for its earlier windows, so every event but the first is a target exactly once."""
    histories = [data.items[data.indptr[u] : data.indptr[u + 1]] for u in range(data.n_users)]
    kinds = [data.kind_codes[data.indptr[u] : data.indptr[u + 1]] for u in range(data.n_users)]
    eligible = np.flatnonzero(np.diff(data.indptr) >= 3)
    holdout = None
    if validation_users and len(eligible):
        chosen = np.sort(
            rng.choice(eligible, size=min(validation_users, len(eligible)), replace=False)
        )
        holdout = Holdout(
            items=pad_left([histories[u][:-1] for u in chosen], max_len, shift=1),
            kinds=pad_left([kinds[u][:-1] for u in chosen], max_len),
            targets=np.array([histories[u][-1] for u in chosen], dtype=np.int64),
        )
        for u in chosen:
            histories[u], kinds[u] = histories[u][:-1], kinds[u][:-1]
    if every_window:
        histories, kinds = _windows(histories, max_len + 1), _windows(kinds, max_len + 1)
    return pad_left(histories, max_len + 1, shift=1), pad_left(kinds, max_len + 1), holdout


def _windows(seqs: list[np.ndarray], width: int) -> list[np.ndarray]:
    """Each sequence cut from its end into windows of `width` that overlap by one element, so
    every element but the first is a target (a non-first element of a window) exactly once."""
    out = []
    for seq in seqs:
        end = len(seq)
        out.append(seq[max(0, end - width) : end])
        while (end := end - (width - 1)) >= 2:
            out.append(seq[max(0, end - width) : end])
    return out
