"""Business rules and reasons over HTTP: query overrides, language choice, response shape."""

from __future__ import annotations

import re

from test_api import assert_error, top_user

CJK = re.compile(r"[\u3400-\u9fff]")


def recommend(client, user, headers=None, **params):
    response = client.get(f"/v1/users/{user}/recommendations", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_reasons_follow_lang_then_accept_language(client, shop):
    user = top_user(shop)
    english = recommend(client, user, k=5)
    chinese = recommend(client, user, headers={"Accept-Language": "zh-CN,zh;q=0.9"}, k=5)
    forced = recommend(client, user, headers={"Accept-Language": "zh-CN"}, k=5, lang="en")
    assert [i["item_id"] for i in english] == [i["item_id"] for i in chinese]
    assert not any(CJK.search(i["reason"]) for i in english + forced)
    assert all(CJK.search(i["reason"]) for i in chinese)
    for item in chinese:
        assert item["reason"] == item["explanation"]["text"]
        assert item["source"] in item["contributions"]["models"]
    anchored = [i for i in english if i["explanation"]["anchor_item_id"]]
    assert anchored and all(i["explanation"]["code"] != "popular_in" for i in anchored)


def test_rule_overrides_in_the_query(client, shop):
    user = top_user(shop)
    items = shop.items.set_index("item_id")
    brands = items["brand"].unique()[:2].tolist()
    recs = recommend(client, user, k=8, brand=",".join(brands), price_max=500, diversity="mmr")
    assert recs and all(
        items.loc[i["item_id"], "brand"] in brands and items.loc[i["item_id"], "price"] <= 500
        for i in recs
    )
    plain = recommend(client, user, k=4, diversity="none")
    capped = recommend(client, user, k=4, diversity="cap", category_cap=1)
    tops = [[items.loc[i["item_id"], "category"].split("/")[0] for i in r] for r in (plain, capped)]
    assert len(set(tops[0])) < 4 and len(set(tops[1])) == 4  # one item per top-level category


def test_bad_rule_values_name_the_parameter(client):
    for params, field in (({"lang": "fr"}, "lang"), ({"mmr_lambda": 3}, "mmr_lambda")):
        response = client.get("/v1/users/u/recommendations", params=params)
        assert_error(response, 422, "InvalidInputError", field)
