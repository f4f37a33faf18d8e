"""Shopper-readable reasons: templates in both languages, names, anchors and the chosen reason."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tailor.errors import InvalidInputError
from tailor.rank import explain as e
from tailor.rank.explain import Explainer, language, localized, render, title

CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.mark.parametrize(
    "code, en, zh",
    [
        (e.VIEWED, "because you viewed X", "因为你浏览了 X"),
        (e.CART, "because you added X to your cart", "因为你加购了 X"),
        (e.FAVORITE, "because you favourited X", "因为你收藏了 X"),
        (e.PURCHASE, "because you bought X", "因为你购买了 X"),
        (e.RATED, "because you rated X", "因为你评价了 X"),
        (e.POPULAR_IN, "popular in C", "热销于 C"),
        (e.POPULAR, "popular right now", "当前热销"),
        (e.NEW, "new arrival", "新品"),
    ],
)
def test_each_template_in_both_languages(code, en, zh):
    assert render(code, "en", title="X", category="C") == en
    assert render(code, "zh", title="X", category="C") == zh


def test_templates_do_not_mix_languages():
    assert e.TEMPLATES["en"].keys() == e.TEMPLATES["zh"].keys()
    for template in e.TEMPLATES["en"].values():
        assert not CJK.search(template)
    for template in e.TEMPLATES["zh"].values():
        assert CJK.search(template)
        assert not re.search(r"[A-Za-z]", re.sub(r"\{\w+\}", "", template))


def test_language_from_the_parameter_then_accept_language_then_english():
    assert language("zh-CN") == "zh" and language("EN", "zh") == "en"
    assert language(None, "zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert language(None, "fr-FR, en;q=0.5, zh;q=0.4") == "en"
    assert language(None, "fr, de;q=0.5") == "en" and language(None, None) == "en"
    assert language(None, "zh;q=0, en;q=bad") == "en"
    with pytest.raises(InvalidInputError, match="lang") as caught:
        language("fr")
    assert caught.value.field == "lang"


def test_bilingual_labels_split_cleanly_and_others_stay_whole():
    assert localized("美妆 Beauty", "zh") == "美妆" and localized("美妆 Beauty", "en") == "Beauty"
    assert (
        localized("童趣天然纸尿裤 Kidora Natural Diapers 01", "en") == "Kidora Natural Diapers 01"
    )
    assert localized("红色连衣裙", "en") == "红色连衣裙"
    assert localized("iPhone 15 手机壳", "zh") == "iPhone 15 手机壳"


def test_titles_prefer_the_language_attribute(items):
    assert title(items, 0, "zh") == "光感面霜" and title(items, 0, "en") == "Glow Cream"
    assert title(items, 7, "en") == "Gift card" and title(items, 7, "zh") == "礼品卡"


class Weights:
    """A model stand-in whose item-item weights are a given matrix (row h raises column i)."""

    supports_similar_items = True

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights

    def _similar(self, items: np.ndarray) -> np.ndarray:
        return self.weights[items]


class Prior:
    supports_similar_items = False


def test_the_history_item_with_the_largest_weight_is_named_with_its_strongest_kind(items):
    weights = np.zeros((8, 8), dtype=np.float32)
    weights[2, 4], weights[3, 4] = 0.2, 0.9  # i3 raises i4 most
    weights[2, 5] = 0.5
    explainer = Explainer({"ease": Weights(weights), "popular": Prior()}, items)
    history = np.array([3, 2, 3])
    kinds = ["view", "view", "cart"]
    picked = np.array([4, 5, 1, 0])
    sources = ["ease", "ease", "ease", "popular"]
    new = np.array([False, False, False, True])
    en = explainer.explain(picked, sources, history, kinds, new, "en")
    assert [x.code for x in en] == [e.CART, e.VIEWED, e.POPULAR_IN, e.NEW]
    assert en[0] == e.Explanation(e.CART, "because you added Pan to your cart", "i3")
    assert en[1].text == "because you viewed Shampoo" and en[1].anchor_item_id == "i2"
    assert en[2].text == "popular in Beauty" and en[2].anchor_item_id is None  # no positive weight
    zh = explainer.explain(picked, sources, history, kinds, new, "zh")
    assert [x.text for x in zh] == [
        "因为你加购了 平底锅",
        "因为你浏览了 洗发水",
        "热销于 美妆",
        "新品",
    ]


def test_factor_models_name_the_most_similar_history_item_by_cosine(items):
    unit = np.zeros((8, 2), dtype=np.float32)
    unit[:, 0] = 1.0
    unit[3] = [0.0, 1.0]
    unit[5] = [0.6, 0.8]
    explainer = Explainer({"als": Weights(np.zeros((8, 8)))}, items, {"als": unit})
    out = explainer.explain(
        np.array([5]), ["als"], np.array([3, 7]), ["favorite", "view"], np.array([False]), "en"
    )
    assert out[0].anchor_item_id == "i3" and out[0].text == "because you favourited Pan"


def test_without_a_category_the_reason_is_plain_popularity(items):
    explainer = Explainer({"popular": Prior()}, items)
    out = explainer.explain(np.array([7]), ["popular"], np.array([]), [], np.array([False]), "zh")
    assert out[0] == e.Explanation(e.POPULAR, "当前热销")


def test_the_strongest_kind_wins_whatever_the_order():
    strongest = e.strongest_kinds(np.array([1, 1, 2, 2]), ["purchase", "view", "click", "favorite"])
    assert strongest == {1: e.PURCHASE, 2: e.FAVORITE}
