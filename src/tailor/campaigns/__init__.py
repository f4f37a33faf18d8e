"""Audiences and coupon campaigns: who is most likely to buy an item, and whom a coupon pays off
for (expected incremental profit under a price-sensitivity uplift model).

    Campaigns(store, settings, propensity).audience("i3", k=100)
    Campaigns(store, settings, propensity).coupon(CouponCampaign(category="…", value=5, ...))
"""
