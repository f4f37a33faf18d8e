"""Purchase prediction: calibrated P(user buys anything / this item / in this category within N
days), LightGBM on behaviour, profile and recommender-score features over a time-based split, and
repurchase timing.

    train_propensity(store, settings)                 # a new version under artifacts/propensity/
    PropensityService(store, settings).probability("u1", 7, item_id="i3")
"""
