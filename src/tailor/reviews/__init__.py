"""Review insights (after-sales): sentiment of review text in Chinese and English, the aspects
shoppers praise and complain about, and a summary per item.

    tailor train reviews                          # sentiment model from the stored star ratings
    GET /v1/items/{item_id}/review-insights?lang=zh

Modules: `sentiment` (a classifier on sentence vectors, taught by ratings), `aspects` (clauses
and the aspects they name), `training` (fit, measure, save), `artifact` (versions on disk),
`insights` (the per-item summary the service answers with), `evaluation` (accuracy and F1).
"""

from tailor.reviews.insights import ReviewInsights
from tailor.reviews.training import train_reviews

__all__ = ["ReviewInsights", "train_reviews"]
