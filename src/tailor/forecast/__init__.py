"""Demand forecasting: daily unit sales per item and per category, with prediction intervals.

sales_series / series_of(events, items, level)        -> SalesSeries (n_series x n_steps)
Forecaster(ForecastParams()).fit(series).predict(series, horizon) -> Forecast (point, low, high)
backtest(series, holdout)                              -> Backtest (WAPE, MASE vs seasonal-naive)
restock_alerts(forecast, items, steps)                 -> items that run out within the horizon
ForecastService(store)                                 -> what the routes and the CLI call
"""

from tailor.forecast.backtest import Backtest, backtest
from tailor.forecast.model import Forecast, Forecaster, ForecastParams
from tailor.forecast.restock import restock_alerts
from tailor.forecast.series import Grid, SalesSeries, sales_series, series_of
from tailor.forecast.service import MAX_DAYS, ForecastService

__all__ = [
    "MAX_DAYS",
    "Backtest",
    "Forecast",
    "ForecastParams",
    "ForecastService",
    "Forecaster",
    "Grid",
    "SalesSeries",
    "backtest",
    "restock_alerts",
    "sales_series",
    "series_of",
]
