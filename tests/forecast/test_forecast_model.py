import numpy as np
import pytest

from tailor.forecast import ForecastParams, Forecaster, Grid, SalesSeries, backtest, series_of
from tailor.forecast.backtest import mase, seasonal_scale, wape
from tailor.forecast.baselines import croston_sba, moving_average, poisson_interval, seasonal_naive
from tailor.ingest.synthetic import generate_shop

QUICK = ForecastParams(n_estimators=60, origin_stride=3)


@pytest.fixture(scope="module")
def shop():
    return generate_shop(800, 150, days=56, seed=5)


@pytest.fixture(scope="module")
def categories(shop):
    return backtest(series_of(shop.events, shop.items, "category"), 14, QUICK)


def test_lightgbm_beats_seasonal_naive_on_the_shops_categories(categories):
    assert categories.methods.get("lightgbm", 0) >= 30
    assert categories.wape < 0.9 * categories.wape_seasonal_naive
    assert categories.mase < categories.mase_seasonal_naive


def test_intervals_contain_most_held_out_days(categories):
    assert 0.7 <= categories.interval_coverage <= 0.95  # nominal 80%


def test_sparse_items_fall_back_to_croston(shop):
    series = series_of(shop.events, shop.items, "item")
    model = Forecaster(QUICK).fit(series)
    methods = np.array(model.methods(series))
    share_sold = (series.values[:, -28:] > 0).mean(axis=1)
    assert (methods[share_sold < 0.3] == "croston").all()
    assert (methods[share_sold >= 0.3] == "lightgbm").all() and (methods == "lightgbm").any()
    forecast = model.predict(series, 14)
    never = series.values.sum(axis=1) == 0
    assert (forecast.point[never] == 0).all()
    assert (forecast.low <= forecast.point).all() and (forecast.point <= forecast.high).all()


def test_short_history_uses_a_moving_average_and_too_few_series_the_seasonal_naive():
    grid = Grid.daily(0)
    short = SalesSeries(["a"], grid, np.array([[2.0, 4.0, 3.0, 5.0]]))
    forecast = Forecaster(QUICK).fit(short).predict(short, 3)
    assert forecast.methods == ["moving_average"]
    np.testing.assert_allclose(forecast.point, [[3.5, 3.5, 3.5]])
    lone = SalesSeries(["b"], grid, np.tile([1.0, 2, 3, 4, 5, 6, 7], (1, 4)))
    forecast = Forecaster(QUICK).fit(lone).predict(lone, 8)
    assert forecast.methods == ["seasonal_naive"]
    np.testing.assert_allclose(forecast.point, [[1, 2, 3, 4, 5, 6, 7, 1]])


def test_simple_methods_match_hand_computed_values():
    values = np.array([[0.0, 3, 0, 0, 1, 0]])
    np.testing.assert_allclose(seasonal_naive(values, 3, 4), [[0, 1, 0, 0]])
    np.testing.assert_allclose(moving_average(values, 3, 2), [[1 / 3, 1 / 3]])
    # demand 3 after an interval of 2, then 1 after 3: size 3 + 0.5 * (1 - 3) = 2,
    # interval 2 + 0.5 * (3 - 2) = 2.5, SBA: (1 - 0.25) * 2 / 2.5
    np.testing.assert_allclose(croston_sba(values, 2, alpha=0.5), [[0.6, 0.6]])


def test_wape_and_mase_match_hand_computed_values():
    actual, forecast = np.array([[2.0, 0.0], [4.0, 4.0]]), np.array([[1.0, 1.0], [4.0, 2.0]])
    assert wape(actual, forecast) == pytest.approx(4 / 10)
    scale = seasonal_scale(np.array([[1.0, 3.0, 2.0], [5.0, 5.0, 5.0]]), 1)
    np.testing.assert_allclose(scale, [1.5, 0.0])
    assert mase(actual, forecast, scale) == pytest.approx(1.0 / 1.5)  # the flat series is left out


def test_daily_phase_is_the_weekday():
    monday = 1_767_571_200_000  # 2026-01-05, a Monday
    assert Grid.daily(monday).phase(np.arange(7)).tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert Grid.hourly(monday + 5 * 3_600_000).phase(np.array([0, 19])).tolist() == [5, 0]


def test_poisson_interval_matches_scipy_stats():
    from scipy.stats import poisson

    means = np.concatenate(
        [[0.0, 1e-3, 0.5, 1.0, 3.7, 100.0], np.random.default_rng(0).gamma(0.5, 5, 500)]
    )
    for level in (0.5, 0.8, 0.95):
        low, high = poisson_interval(means, level)
        tail = (1 - level) / 2
        np.testing.assert_array_equal(low, poisson.ppf(tail, means))
        np.testing.assert_array_equal(high, poisson.ppf(1 - tail, means))
