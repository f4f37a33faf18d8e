"""Why an item is in a push, as a code per candidate row and as a sentence in zh or en."""

from __future__ import annotations

import numpy as np
import pandas as pd

REASONS: dict[str, dict[str, str]] = {
    "in_cart": {"zh": "您加购过，还没下单", "en": "still in your cart"},
    "restock": {
        "zh": "按您的购买周期，该补货了",
        "en": "about time to restock, by your buying rhythm",
    },
    "viewed": {"zh": "您最近看过", "en": "you looked at it recently"},
    "popular": {"zh": "近期热卖", "en": "selling well lately"},
}


def reason_code(scored: pd.DataFrame) -> np.ndarray:
    """One code per row of a pair-feature table (see `tailor.propensity.features`)."""
    if scored.empty:
        return np.array([], dtype=object)
    due = scored["repurchase_due_ratio"].fillna(0.0).to_numpy() >= 0.8
    return np.select(
        [scored["n_cart_30d"].to_numpy() > 0, due, scored["n_view_30d"].to_numpy() > 0],
        ["in_cart", "restock", "viewed"],
        default="popular",
    )


def reason_text(code: str, probability: float, lang: str) -> str:
    text = REASONS[code]["zh" if lang == "zh" else "en"]
    if lang == "zh":
        return f"{text}（预计购买概率 {probability:.0%}）"
    return f"{text} (predicted chance to buy {probability:.0%})"
