"""Training pieces of the SequenceTransformer: the full-softmax loss and the learning-rate schedule."""

from __future__ import annotations

import pytest

from tailor.models.sequence_net import ItemTable, init_weights, torch
from tailor.models.sequence_training import full_softmax_loss, softmax_loss, warmup_linear_decay


def test_the_full_softmax_is_the_cross_entropy_over_the_candidates_only() -> None:
    torch.manual_seed(0)
    items_net = ItemTable(n_items=6, dim=4, text=None)
    init_weights(items_net)
    candidates = torch.tensor([1, 2, 4, 5])  # rows 3 and 6 had no training events
    hidden, targets = torch.randn(3, 4), torch.tensor([4, 1, 5])
    logits = hidden @ items_net(candidates).T
    by_hand = torch.logsumexp(logits, dim=1) - (hidden * items_net(targets)).sum(1)
    loss = full_softmax_loss(hidden, targets, items_net, candidates)
    assert loss.item() == pytest.approx(by_hand.mean().item(), rel=1e-5)
    generator = torch.Generator().manual_seed(0)
    assert softmax_loss(hidden, targets, items_net, candidates, None, generator).item() == (
        pytest.approx(loss.item(), rel=1e-6)
    )


def test_the_full_softmax_gradients_are_those_of_torch_cross_entropy() -> None:
    torch.manual_seed(1)
    candidates, targets = torch.tensor([1, 2, 4, 5]), torch.tensor([4, 1, 5, 4, 2])
    gradients = []
    for loss_of in (
        lambda hidden, net: full_softmax_loss(hidden, targets, net, candidates),
        lambda hidden, net: torch.nn.functional.cross_entropy(
            hidden @ net(candidates).T, torch.searchsorted(candidates, targets)
        ),
    ):
        torch.manual_seed(2)
        items_net = ItemTable(n_items=6, dim=4, text=None)
        init_weights(items_net)
        hidden = torch.randn(5, 4, requires_grad=True)
        (3.0 * loss_of(hidden, items_net)).backward()
        gradients.append((hidden.grad, items_net.ids.weight.grad))
    (hidden_grad, table_grad), (expected_hidden, expected_table) = gradients
    assert torch.allclose(hidden_grad, expected_hidden, atol=1e-6)
    assert torch.allclose(table_grad, expected_table, atol=1e-6)
    assert table_grad[[0, 3, 6]].abs().sum() == 0  # padding and items that are no candidate


def test_the_learning_rate_warms_up_over_the_first_epoch_then_falls_to_zero() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = warmup_linear_decay(optimizer, steps_per_epoch=4, epochs=3)
    rates = []
    for _ in range(12):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert rates[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert rates[4:] == pytest.approx([1.0, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8])
    assert optimizer.param_groups[0]["lr"] == 0.0
