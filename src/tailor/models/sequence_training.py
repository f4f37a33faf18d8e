"""Training pieces of `SequenceTransformer`: padded batches, the softmax loss, validation NDCG.

Kept apart from the model class so each can be read on one screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tailor.models.sequence_net import F, ItemTable, SequenceEncoder, Tensor, nn, torch


def pad_left(seqs: Sequence[np.ndarray], width: int, shift: int = 0) -> np.ndarray:
    """The last `width` values of each sequence, right-aligned in a zero-padded (n, width) int64 array."""
    out = np.zeros((len(seqs), width), dtype=np.int64)
    for row, seq in enumerate(seqs):
        tail = np.asarray(seq[-width:], dtype=np.int64) if width else seq[:0]
        if len(tail):
            out[row, width - len(tail) :] = tail + shift
    return out


@dataclass(frozen=True)
class Holdout:
    """Each validation user's events before the target, and the target (item_idx)."""

    items: np.ndarray  # (n, max_len) left-padded, shifted by one
    kinds: np.ndarray  # (n, max_len)
    targets: np.ndarray  # (n,) item_idx


def softmax_loss(
    hidden: Tensor,
    targets: Tensor,
    items_net: ItemTable,
    candidates: Tensor,
    negatives: int | None,
    generator: torch.Generator,
) -> Tensor:
    """Cross-entropy of each target against all candidate rows, or shared uniform negatives among them,
    plus the text tower's loss.

    Candidates are the items with training events: an item nobody touched would only learn
    "never bought" as a negative, which would then drag down its text (its only signal later).
    With `negatives=None` the softmax runs over every candidate. Otherwise `negatives` candidates
    drawn uniformly (shared by the batch) compete with the target. Uniform sampling needs no logQ
    correction: log q is the same for every item. A candidate equal to the target is masked out.
    """
    if negatives is None and items_net.text_tower is None:
        return full_softmax_loss(hidden, targets, items_net, candidates)
    if negatives is not None:
        candidates = candidates[torch.randint(len(candidates), (negatives,), generator=generator)]
    is_target = candidates.unsqueeze(0) == targets.unsqueeze(1)
    target_logits = (hidden * items_net(targets)).sum(-1, keepdim=True)
    other_logits = (hidden @ items_net(candidates).T).masked_fill(is_target, float("-inf"))
    loss = _target_first_cross_entropy(target_logits, other_logits)
    if items_net.text_tower is None:
        return loss
    text_targets, text_candidates = items_net.text_only(targets), items_net.text_only(candidates)
    return loss + text_tower_loss(
        hidden, target_logits, other_logits, text_targets, text_candidates, is_target, generator
    )


def full_softmax_loss(
    hidden: Tensor, targets: Tensor, items_net: ItemTable, candidates: Tensor
) -> Tensor:
    """Cross-entropy of each target against every candidate (the sorted rows with training events,
    targets among them): one logits matrix whose target column is found by search, so nothing of
    (positions x candidates) size is filled, masked or copied."""
    return _LogitsCrossEntropy.apply(
        hidden, items_net(candidates), torch.searchsorted(candidates, targets)
    )


# logsumexp over the whole logits matrix allocates two temporaries of its size; in slices of
# this many rows they stay small and are reused (3x faster at ML-1M's size)
_LOGSUMEXP_ROWS = 512


class _LogitsCrossEntropy(torch.autograd.Function):
    """Mean cross-entropy of `hidden @ table.T` at the `columns`, as `F.cross_entropy` computes
    it, with the (positions x candidates) logits as the only tensor of that size: the backward
    pass turns them into the softmax in place (F.cross_entropy keeps a log-softmax copy and
    fills a gradient of that size with zeros; at ML-1M's 25,600 positions x 3,706 items this
    halves the loss's time with two threads)."""

    @staticmethod
    def forward(ctx, hidden: Tensor, table: Tensor, columns: Tensor) -> Tensor:  # type: ignore[override]
        logits = hidden @ table.T
        log_normaliser = torch.cat(
            [torch.logsumexp(rows, dim=1) for rows in logits.split(_LOGSUMEXP_ROWS)]
        )
        ctx.save_for_backward(hidden, table, columns, logits, log_normaliser)
        return (log_normaliser - logits.gather(1, columns.unsqueeze(1)).squeeze(1)).mean()

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, Tensor, None]:  # type: ignore[override]
        hidden, table, columns, logits, log_normaliser = ctx.saved_tensors
        softmax = logits.sub_(log_normaliser.unsqueeze(1)).exp_()
        softmax[torch.arange(len(columns)), columns] -= 1.0
        softmax.mul_(grad / len(columns))
        return softmax @ table, softmax.T @ hidden, None


TEXT_SHARE = 0.5  # chance that a target or candidate is seen by its text in the tower's loss


def text_tower_loss(
    hidden: Tensor,
    target_logits: Tensor,
    other_logits: Tensor,
    text_targets: Tensor,
    text_candidates: Tensor,
    is_target: Tensor,
    generator: torch.Generator,
) -> Tensor:
    """The same ranking with a random half of the targets and candidates seen by their text alone.

    That mimics request time, where a never-trained item's text-tower vector competes with the
    fused vectors of items with events. Whether an item is seen by its text is independent of it
    being the target, so the tower learns scores on the fused scale: pushed up when it stands for
    the target, down when it stands for a negative. (Were it always the target, it would learn to
    outscore every fused item.) The user states and fused logits are detached, so only the tower
    learns here and the fused model trains as it would without it.
    """
    hidden = hidden.detach()
    as_text = torch.rand(len(hidden), 1, generator=generator) < TEXT_SHARE
    target = torch.where(
        as_text, (hidden * text_targets).sum(-1, keepdim=True), target_logits.detach()
    )
    as_text = torch.rand(1, len(text_candidates), generator=generator) < TEXT_SHARE
    others = torch.where(as_text, hidden @ text_candidates.T, other_logits.detach())
    return _target_first_cross_entropy(target, others.masked_fill(is_target, float("-inf")))


def _target_first_cross_entropy(target_logits: Tensor, other_logits: Tensor) -> Tensor:
    logits = torch.cat([target_logits, other_logits], dim=1)
    return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long))


def length_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Rows grouped with others of similar length (little padding), batches in random order."""
    order = rng.permutation(len(lengths))
    order = order[np.argsort(lengths[order], kind="stable")]
    batches = np.array_split(order, max(1, -(-len(order) // batch_size)))
    return [batches[i] for i in rng.permutation(len(batches))]


class TrainingStep(nn.Module):
    """The item table and the encoder as one module whose forward is a batch's loss, so one
    torch DistributedDataParallel wrapper can synchronise every parameter's gradient."""

    def __init__(self, items_net: ItemTable, encoder: SequenceEncoder) -> None:
        super().__init__()
        self.items_net = items_net
        self.encoder = encoder

    def forward(
        self,
        seq: Tensor,
        kinds: Tensor,
        candidates: Tensor,
        negatives: int | None,
        generator: torch.Generator,
    ) -> Tensor:
        inputs, targets = seq[:, :-1], seq[:, 1:]
        hidden = self.encoder(self.items_net(inputs), inputs, kinds[:, :-1])
        keep = (inputs > 0) & (targets > 0)
        return softmax_loss(
            hidden[keep], targets[keep], self.items_net, candidates, negatives, generator
        )


def warmup_linear_decay(
    optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step learning rate that rises linearly over the first epoch, then falls linearly to
    zero at the end of the last epoch."""
    warmup, total = max(1, steps_per_epoch), max(1, steps_per_epoch * epochs)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


@dataclass(frozen=True)
class Replica:
    """This process's place among `world` data-parallel workers (one worker: plain training)."""

    rank: int = 0
    world: int = 1

    def share(self, batch: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, float]:
        """This worker's rows of a batch and the weight of its mean loss.

        Rows with a next event to predict are dealt round-robin. The weight makes the average of
        the workers' gradients (what DDP computes) equal the gradient of the whole batch's mean
        loss. A worker left without rows repeats the batch with weight 0, because every DDP
        worker must run each step.
        """
        if self.world == 1:
            return batch, 1.0
        tokens = np.maximum(lengths[batch] - 1, 0)
        useful = batch[tokens > 0]
        mine = useful[self.rank :: self.world]
        if not len(mine):
            return useful, 0.0
        return mine, self.world * float(np.maximum(lengths[mine] - 1, 0).sum()) / tokens.sum()


def train_epoch(
    step: nn.Module,
    optimizer: torch.optim.Optimizer,
    seqs: np.ndarray,
    kinds: np.ndarray,
    batch_size: int,
    candidates: Tensor,
    negatives: int | None,
    rng: np.random.Generator,
    generator: torch.Generator,
    replica: Replica = Replica(),
    schedule: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> float:
    """One pass over the (n, max_len + 1) padded training sequences with a `TrainingStep` (or its
    DDP wrapper), stepping the learning-rate `schedule` after each batch; returns this worker's
    mean loss."""
    step.train()
    lengths = (seqs > 0).sum(1)
    losses = []
    for batch in length_batches(lengths, batch_size, rng):
        width = int(lengths[batch].max())
        if width < 2:
            continue
        rows, weight = replica.share(batch, lengths)
        seq, kind = torch.from_numpy(seqs[rows, -width:]), torch.from_numpy(kinds[rows, -width:])
        loss = step(seq, kind, candidates, negatives, generator)
        optimizer.zero_grad(set_to_none=True)
        (loss if weight == 1.0 else loss * weight).backward()
        optimizer.step()
        if schedule is not None:
            schedule.step()
        losses.append(loss.item())
    return float(np.mean(losses)) if losses else float("nan")


@torch.no_grad()
def last_hidden(
    encoder: SequenceEncoder, table: Tensor, items: np.ndarray, kinds: np.ndarray
) -> Tensor:
    """The hidden state after each user's latest event: (n, dim)."""
    encoder.eval()
    width = max(1, int((items > 0).sum(1).max()))
    items_t = torch.from_numpy(items[:, -width:])
    kinds_t = torch.from_numpy(kinds[:, -width:])
    return encoder(table[items_t], items_t, kinds_t, last_only=True)[:, -1]


@torch.no_grad()
def validation_ndcg(
    table: Tensor, encoder: SequenceEncoder, holdout: Holdout, k: int = 10, batch_size: int = 1024
) -> float:
    """NDCG@k of the held-out targets, ranking the full served `table` with each user's history masked."""
    gains = []
    for start in range(0, len(holdout.targets), batch_size):
        rows = slice(start, start + batch_size)
        hist = torch.from_numpy(holdout.items[rows])
        scores = last_hidden(encoder, table, holdout.items[rows], holdout.kinds[rows]) @ table.T
        scores.scatter_(1, hist, float("-inf"))  # column 0 (padding) goes too
        targets = torch.from_numpy(holdout.targets[rows] + 1)
        target_scores = scores.gather(1, targets.unsqueeze(1))
        rank = (scores > target_scores).sum(1)
        gains.append(torch.where(rank < k, 1.0 / torch.log2(rank.double() + 2), 0.0))
    return float(torch.cat(gains).mean())
