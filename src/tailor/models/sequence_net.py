"""The torch modules of `SequenceTransformer`: an item table and a causal self-attention encoder.

Item indices are shifted by one inside the network: 0 is padding, item_idx i is row i + 1.
Sequences are left-padded, so the latest event always sits in the last column.
"""

from __future__ import annotations

import numpy as np

from tailor.errors import ConfigError

try:
    import torch
    import torch.nn.functional as F
    from torch import Tensor, nn
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ConfigError("the transformer model needs PyTorch: pip install 'tailor[torch]'") from exc


class ItemTable(nn.Module):
    """Item vectors: a learned id embedding plus a learned projection of a frozen text vector.

    The same table embeds the input events and scores the output (weight tying). An item with
    no training events has no learned id, so it gets its vector from a separate text tower
    (`text_only`): a projection trained to place an item where its fused vector would be, from
    its text alone (see `sequence_training.softmax_loss`).
    """

    def __init__(self, n_items: int, dim: int, text: np.ndarray | None) -> None:
        super().__init__()
        self.ids = nn.Embedding(n_items + 1, dim, padding_idx=0)
        self.text_proj: nn.Linear | None = None
        self.text_tower: nn.Linear | None = None
        if text is not None:
            padded = np.vstack([np.zeros((1, text.shape[1]), np.float32), text.astype(np.float32)])
            self.register_buffer("text", torch.from_numpy(padded), persistent=False)
            self.text_proj = nn.Linear(text.shape[1], dim)
            self.text_tower = nn.Linear(text.shape[1], dim)

    def forward(self, rows: Tensor | None = None) -> Tensor:
        """Fused vectors of the given (shifted) rows, any shape; the whole (n_items + 1, dim) table for None."""
        ids = self.ids.weight if rows is None else self.ids(rows)
        if self.text_proj is None:
            return ids
        return ids + self.text_proj(self._text(rows))

    def text_only(self, rows: Tensor | None = None) -> Tensor:
        """Text-tower vectors of the given (shifted) rows, or of the whole table for None."""
        if self.text_tower is None:
            raise ValueError("this item table has no text")
        return self.text_tower(self._text(rows))

    def served(self, trained: Tensor) -> Tensor:
        """The (n_items + 1, dim) table used at request time: fused vectors for the rows in the bool
        mask `trained` (items with training events), text-tower vectors (zeros without text) for
        the rest, whose ids never learned anything."""
        fused = self()
        untrained = torch.zeros_like(fused) if self.text_tower is None else self.text_only()
        return torch.where(trained.unsqueeze(1), fused, untrained)

    def _text(self, rows: Tensor | None) -> Tensor:
        return self.text if rows is None else self.text[rows]


class Block(nn.Module):
    """Pre-norm Transformer block: masked multi-head self-attention, then an MLP."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor, last_only: bool = False) -> Tensor:
        """(batch, t, dim) -> the same; with `last_only`, only the last position's output,
        (batch, 1, dim): every position is still a key, but only the last one queries."""
        b, t, d = x.shape
        q, k, v = (
            self.qkv(self.ln1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        )
        if last_only:
            q, mask, x = q[:, :, -1:], mask[..., -1:, :], x[:, -1:]
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(b, -1, d)))
        return x + self.drop(self.mlp(self.ln2(x)))


class SequenceEncoder(nn.Module):
    """Item vectors + learned positions + event-kind embeddings -> causal Transformer -> hidden states."""

    def __init__(
        self, dim: int, max_len: int, n_kinds: int, layers: int, heads: int, dropout: float
    ) -> None:
        super().__init__()
        self.max_len = max_len
        self.positions = nn.Embedding(max_len, dim)
        self.kinds = nn.Embedding(n_kinds, dim)
        self.blocks = nn.ModuleList(Block(dim, heads, dropout) for _ in range(layers))
        self.ln = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(
        self, vectors: Tensor, items: Tensor, kinds: Tensor, last_only: bool = False
    ) -> Tensor:
        """Hidden state after each event: (batch, t, dim) for (batch, t) left-padded items and
        their vectors; with `last_only`, after the latest event only: (batch, 1, dim)."""
        t = items.shape[1]
        valid = items > 0
        pos = torch.arange(self.max_len - t, self.max_len)
        x = vectors + self.positions(pos) + self.kinds(kinds)
        x = self.drop(x) * valid.unsqueeze(-1)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        # Keys: earlier real events; a padding query sees itself only, so no row is empty.
        mask = causal & (valid.unsqueeze(1) | torch.eye(t, dtype=torch.bool))
        *inner, final = self.blocks
        for block in inner:
            x = block(x, mask.unsqueeze(1))
        return self.ln(final(x, mask.unsqueeze(1), last_only))


def init_weights(module: nn.Module) -> None:
    """Small normal init (as in GPT-2): keeps the tied logits near zero at the start."""
    for sub in module.modules():
        if isinstance(sub, (nn.Linear, nn.Embedding)):
            nn.init.normal_(sub.weight, std=0.02)
        if isinstance(sub, nn.Linear) and sub.bias is not None:
            nn.init.zeros_(sub.bias)
        if isinstance(sub, nn.Embedding) and sub.padding_idx is not None:
            with torch.no_grad():
                sub.weight[sub.padding_idx].zero_()
