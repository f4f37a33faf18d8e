"""Each user's price sensitivity, measured from which of their views led to a cart or purchase.

The model: a view of an item whose price sits at z (see `tailor.campaigns.prices`) leads to a
response at a rate `a_u * exp(-s_u * z)`. A response is a cart, or a purchase in a shop that
records no carts: one per view, so views and responses count alike. Given the user's
number of responses, which views responded depends only on s_u (a conditional likelihood that
needs no estimate of a_u):

    log L_u(s) = -s * sum(z of responded views) - R_u * log(sum over views of exp(-s * z))

A user has few responses, so s_u is an empirical-Bayes posterior: the prior is a discrete
distribution on a grid of s, fitted to all users by EM (the nonparametric maximum likelihood
prior), and each user's likelihood moves it. A user without responses keeps the prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

GRID = np.linspace(0.0, 3.0, 61)
RESPONSE_KINDS = ("cart", "purchase")  # the first the shop records is the response
EM_ITERATIONS = 200


@dataclass(frozen=True)
class PriceSensitivity:
    grid: np.ndarray
    prior_: np.ndarray  # weights on the grid
    users_: pd.Index  # users with priced views
    posterior_: np.ndarray  # (users, grid) weights

    @property
    def prior_mean_(self) -> float:
        return float(self.prior_ @ self.grid)

    def posterior(self, user_ids: pd.Index | list[str]) -> np.ndarray:
        """(len(user_ids), grid) posterior weights; the prior for users without priced views."""
        rows = self.users_.get_indexer(user_ids)
        return np.where(rows[:, None] >= 0, self.posterior_[rows], self.prior_[None, :])

    def of(self, user_ids: pd.Index | list[str]) -> np.ndarray:
        """Posterior mean sensitivity of each user."""
        return self.posterior(user_ids) @ self.grid


def _log_likelihoods(
    past: pd.DataFrame, positions: pd.DataFrame
) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Users with priced views, their log-likelihood on GRID and their number of responses."""
    z = positions["z"]
    views = past[past["kind"] == "view"]
    views = views.assign(z=views["item_id"].map(z)).dropna(subset=["z"])
    users = pd.Index(views["user_id"].unique())
    kind = next((k for k in RESPONSE_KINDS if (past["kind"] == k).any()), RESPONSE_KINDS[-1])
    responses = past[past["kind"] == kind]
    responses = responses.assign(z=responses["item_id"].map(z)).dropna(subset=["z"])
    responses = responses[responses["user_id"].isin(users)]
    rows = users.get_indexer(views["user_id"])
    membership = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(len(users), len(rows))
    )
    exposure = membership @ np.exp(-np.outer(views["z"].to_numpy(np.float64), GRID))
    response_rows = users.get_indexer(responses["user_id"])
    count = np.bincount(response_rows, minlength=len(users)).astype(np.float64)
    z_sum = np.bincount(
        response_rows, weights=responses["z"].to_numpy(np.float64), minlength=len(users)
    )
    log_likelihood = -np.outer(z_sum, GRID) - count[:, None] * np.log(exposure)
    return users, log_likelihood, count


def _posterior(log_likelihood: np.ndarray, prior: np.ndarray) -> np.ndarray:
    weights = np.exp(log_likelihood - log_likelihood.max(axis=1, keepdims=True)) * prior
    return weights / weights.sum(axis=1, keepdims=True)


def fit_price_sensitivity(past: pd.DataFrame, positions: pd.DataFrame) -> PriceSensitivity:
    """`past`: prepared events (user_id, item_id, kind, ts); `positions`: `price_positions`."""
    users, log_likelihood, count = _log_likelihoods(past, positions)
    prior = np.full(len(GRID), 1.0 / len(GRID))
    informative = log_likelihood[count > 0]
    if len(informative):
        for _ in range(EM_ITERATIONS):
            prior = _posterior(informative, prior).mean(axis=0)
    return PriceSensitivity(
        grid=GRID, prior_=prior, users_=users, posterior_=_posterior(log_likelihood, prior)
    )
