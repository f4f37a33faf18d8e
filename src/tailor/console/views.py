"""What each console page shows: plain dicts for the templates, built from the engine and the store.

Words come from the page's catalogue (`t`); data (titles, categories) is shown in the page's
language when the shop gives it in both (`localized`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import make_url

from tailor.artifacts import list_versions, read_manifest
from tailor.console import charts, push_preview
from tailor.console.capabilities import capability, plain
from tailor.console.i18n import Words
from tailor.console.push_preview import PushForm
from tailor.console.stats import DAY_MS, ConsoleStats
from tailor.console.write_health import CHARTED, DAYS, rejected_rows, write_health
from tailor.engine import Engine, Recommendation
from tailor.errors import TailorError
from tailor.ingest.write_log import MAX_REJECTIONS_LOGGED
from tailor.rank.explain import localized
from tailor.store.schema import events
from tailor.types import CATEGORY_SEPARATOR

TIMELINE_EVENTS = 50
RECOMMENDATIONS = 10
EVENT_KINDS = (
    "view",
    "click",
    "cart",
    "favorite",
    "purchase",
    "search",
    "review",
    "rating",
    "impression",
    "dislike",
    "push_sent",
    "push_delivered",
    "push_opened",
    "push_clicked",
)


@dataclass(frozen=True)
class Page:
    t: Words
    engine: Engine
    stats: ConsoleStats

    @property
    def lang(self) -> str:
        return self.t.lang

    def kind_names(self) -> dict[str, str]:
        return {kind: self.t(f"kind_{kind}") for kind in EVENT_KINDS}

    def channel_names(self) -> dict[str, str]:
        return {
            key.removeprefix("channel_"): value
            for key, value in self.t.entries.items()
            if key.startswith("channel_")
        }

    def titles(self, item_ids: Sequence[str]) -> dict[str, str]:
        ids = sorted({i for i in item_ids if isinstance(i, str)})
        if not ids:
            return {}
        frame = self.engine.store.items(ids)
        return {
            row.item_id: localized(str(row.title), self.lang) if isinstance(row.title, str) else ""
            for row in frame.itertuples()
        }

    def rec_rows(self, recs: list[Recommendation]) -> list[dict[str, Any]]:
        titles = self.titles([r.item_id for r in recs])
        return [
            {
                "item_id": r.item_id,
                "title": titles.get(r.item_id, ""),
                "score": r.score,
                "reason": r.reason,
                "source": self.t.model(r.source),
            }
            for r in recs
        ]


def overview(page: Page, ingested_since_start: float | None) -> dict[str, Any]:
    t, stats, engine = page.t, page.stats, page.engine
    counts = engine.store.counts()
    latest = stats.latest_event_ts()
    catalogue = stats.catalogue()
    daily = stats.daily()
    last_week = [sum(v[-7:]) for v in daily.series.values()] if daily.days else []
    return {
        "counts": counts,
        "latest_event_ts": latest,
        "active_users": stats.active_users(latest) if latest is not None else 0,
        "catalogue": catalogue,
        "catalogue_age_days": freshness_days(catalogue["newest_created_at"], latest),
        "events_last_7_days": sum(last_week),
        "ingested_since_start": ingested_since_start,
        "rejected_events": rejected_rows(engine.store, "events"),
        "rejected_days": DAYS,
        "manifest": _manifest(engine),
        "events_chart": charts.daily_bars(
            daily, t("chart_events_per_day"), t("axis_events"), page.kind_names()
        ),
    }


def _manifest(engine: Engine) -> Any:
    return engine.manifest if engine.version is not None else None


def models(page: Page) -> dict[str, Any]:
    t, engine = page.t, page.engine
    root = engine.settings.artifacts_dir
    manifests = [read_manifest(root / version) for version in reversed(list_versions(root))]
    current = _manifest(engine)
    figures = []
    if current is not None:
        ks = current.evaluation.get("ks", [5, 10])
        named = {t.model(name): values for name, values in current.metrics.items()}
        for metric in ("recall", "ndcg"):
            figures.append(
                charts.metric_curves(
                    named, ks, metric, t(f"chart_{metric}_at_k", version=current.version)
                )
            )
        figures.append(
            charts.bars(
                [t.model(name) for name in current.train_seconds],
                list(current.train_seconds.values()),
                t("chart_train_seconds"),
                t("axis_seconds"),
            )
        )
        figures.extend(_segment_figures(t, current))
        if len(manifests) > 1:
            figures.append(
                charts.grouped_bars(
                    {
                        m.version: {t.metric(k): v for k, v in m.metrics.get("blend", {}).items()}
                        for m in manifests
                    },
                    t("chart_blend_by_version"),
                    t("axis_value"),
                )
            )
    return {
        "current": current,
        "manifests": manifests,
        "figures": figures,
        "model_sizes": _model_sizes(current) if current is not None else {},
    }


def _segment_figures(t: Words, manifest: Any) -> list[charts.Figure]:
    """NDCG@10 and Recall@10 per model by history-length and by popularity bucket, the x labels
    giving each bucket's number of test users."""
    figures = []
    for segment in ("history", "popularity"):
        per_model = {
            t.model(name): by_segment[segment]
            for name, by_segment in manifest.segment_metrics.items()
            if by_segment.get(segment)
        }
        if not per_model:
            continue
        buckets = next(iter(per_model.values()))
        labels = {  # plotly breaks tick labels at <br>
            bucket: (t(f"bucket_{bucket}") if segment == "popularity" else bucket)
            + "<br>"
            + t("segment_users", users=f"{values['n_users']:,.0f}")
            for bucket, values in buckets.items()
        }
        for metric in ("ndcg_at_10", "recall_at_10"):
            figures.append(
                charts.grouped_bars(
                    {
                        model: {labels[b]: v[metric] for b, v in values.items() if b in labels}
                        for model, values in per_model.items()
                    },
                    t(f"chart_by_{segment}", metric=t.metric(metric)),
                    t.metric(metric),
                )
            )
    return figures


def _model_sizes(manifest: Any) -> dict[str, int]:
    """Bytes on disk of each model's files in the artifact."""
    sizes = {name: 0 for name in manifest.models}
    for path, size in manifest.files.items():
        parts = path.split("/")
        if len(parts) > 2 and parts[0] == "models" and parts[1] in sizes:
            sizes[parts[1]] += size
    return sizes


def user(page: Page, user_id: str) -> dict[str, Any]:
    t, engine, stats = page.t, page.engine, page.stats
    store = engine.store
    row = store.users([user_id])
    timeline = store.recent_events(user_id, TIMELINE_EVENTS)
    if not len(row) and not len(timeline):
        return {"user_id": user_id, "found": False}
    attributes = row["attributes"].iloc[0] if len(row) else None
    titles = page.titles(timeline["item_id"].dropna().tolist())
    events_rows = [
        {
            "ts": int(e.ts),
            "kind": e.kind,
            "item_id": e.item_id if isinstance(e.item_id, str) else None,
            "title": titles.get(e.item_id, "") if isinstance(e.item_id, str) else "",
            "channel": e.channel if isinstance(e.channel, str) else "",
            "query": e.query if isinstance(e.query, str) else "",
        }
        for e in timeline.iloc[::-1].itertuples()
    ]
    daily = stats.daily(where=events.c.user_id == user_id)
    return {
        "user_id": user_id,
        "found": True,
        "attributes": {k: localized(str(v), page.lang) for k, v in (attributes or {}).items()},
        "created_at": row["created_at"].iloc[0] if len(row) else None,
        "n_events": daily.total,
        "timeline": events_rows,
        "chart": charts.daily_bars(
            daily, t("chart_user_events", user=user_id), t("axis_events"), page.kind_names()
        ),
        "scenarios": _scenarios(page, user_id, timeline),
        "profile": _call(page, "profile", user_id),
        "purchase": _call(page, "purchase", user_id),
        "push_history": _push_history(page, user_id),
    }


def _push_history(page: Page, user_id: str) -> dict[str, Any]:
    """The user's push log (its `push_*` events), once push planning has landed."""
    if capability(page.engine, "push_plan") is None:
        return {"landed": False}
    rows = page.stats.push_events(user_id)
    titles = page.titles([item for _, _, item in rows if item])
    return {
        "landed": True,
        "value": [
            {"ts": ts, "kind": kind, "item_id": item, "title": titles.get(item or "", "")}
            for ts, kind, item in rows
        ],
    }


def _scenarios(page: Page, user_id: str, timeline: pd.DataFrame) -> list[dict[str, Any]]:
    """Home feed, the feed within the user's most visited top category, and continue shopping
    once that scenario has landed."""
    engine = page.engine
    if engine.version is None:
        return []
    scenarios = [
        {
            "name": page.t("scenario_home"),
            "rows": page.rec_rows(engine.recommend(user_id, RECOMMENDATIONS, lang=page.lang)),
        }
    ]
    top = _top_category(engine, timeline)
    if top is not None:
        recs = engine.recommend(user_id, RECOMMENDATIONS, category=top, lang=page.lang)
        scenarios.append(
            {
                "name": page.t("scenario_category", category=localized(top, page.lang)),
                "rows": page.rec_rows(recs),
            }
        )
    pending = _call(page, "continue_shopping", user_id, shape=page.rec_rows)
    if pending["landed"] and "value" in pending:
        scenarios.append({"name": page.t("scenario_continue_shopping"), "rows": pending["value"]})
    return scenarios


def _top_category(engine: Engine, timeline: pd.DataFrame) -> str | None:
    ids = timeline["item_id"].dropna()
    if not len(ids):
        return None
    categories = engine.store.items(sorted(set(ids)))[["item_id", "category"]]
    merged = ids.to_frame().merge(categories, on="item_id")["category"].dropna()
    if not len(merged):
        return None
    tops = merged.astype(str).str.split(CATEGORY_SEPARATOR).str[0]
    return str(tops.value_counts().index[0])


def _call(page: Page, name: str, *args: Any, shape: Callable[[Any], Any] = plain) -> dict[str, Any]:
    """{"landed": bool, "value": its result shaped for the page, "error": message}."""
    method = capability(page.engine, name, page.lang)
    if method is None:
        return {"landed": False}
    try:
        return {"landed": True, "value": shape(method(*args))}
    except TailorError as exc:
        return {"landed": True, "error": exc.message}


def item(page: Page, item_id: str) -> dict[str, Any]:
    t, engine, stats = page.t, page.engine, page.stats
    frame = engine.store.items([item_id])
    if not len(frame):
        return {"item_id": item_id, "found": False}
    fact = frame.iloc[0]
    activity = stats.item_activity(item_id)
    daily = activity.daily
    similar: list[dict[str, Any]] = []
    similar_error = None
    if engine.version is not None:
        try:
            similar = page.rec_rows(engine.similar_items(item_id, RECOMMENDATIONS))
        except TailorError as exc:
            similar_error = exc.message
    return {
        "item_id": item_id,
        "found": True,
        "facts": _item_facts(fact, page.lang),
        "chart": charts.daily_bars(
            daily, t("chart_item_events", item=item_id), t("axis_events"), page.kind_names()
        ),
        "n_events": daily.total,
        "similar": similar,
        "similar_error": similar_error,
        "audience": activity.audience,
        "buyers": activity.buyers,
        "bought_together": _call(page, "bought_together", item_id, shape=page.rec_rows),
        "predicted_audience": _call(page, "audience", item_id),
    }


def _item_facts(fact: pd.Series, lang: str) -> dict[str, Any]:
    def text(name: str) -> str:
        value = fact.get(name)
        return localized(str(value), lang) if isinstance(value, str) else ""

    return {
        "title": text("title"),
        "category": " / ".join(
            localized(part, lang) for part in text("category").split(CATEGORY_SEPARATOR) if part
        ),
        "brand": text("brand"),
        "price": None if pd.isna(fact.get("price")) else float(fact["price"]),
        "stock": None if pd.isna(fact.get("stock")) else int(fact["stock"]),
        "hidden": bool(fact.get("hidden")),
        "tags": [localized(str(tag), lang) for tag in (fact.get("tags") or [])],
        "created_at": None if pd.isna(fact.get("created_at")) else int(fact["created_at"]),
    }


def health(page: Page, check: bool = False) -> dict[str, Any]:
    """Volumes and schema fill; the store's integrity check (a full scan) only when asked."""
    t, stats = page.t, page.stats
    volumes = stats.volumes()
    return {
        "fills": stats.column_fill(),
        "by_channel": volumes.by_channel,
        "by_kind": volumes.by_kind,
        "channel_chart": charts.daily_bars(
            volumes.daily_by_channel,
            t("chart_events_by_channel"),
            t("axis_events"),
            page.channel_names(),
        ),
        "checked": check,
        "integrity": page.engine.store.check_integrity() if check else [],
        "store_url": _safe_url(page.engine.store.url),
        "writes": _writes(page),
    }


def _writes(page: Page) -> dict[str, Any]:
    """The write log: rows accepted, rejected and duplicated per day and source, latest rejections."""
    t = page.t
    found = write_health(page.engine.store)
    names = {
        f"{source}:{count}": f"{t('table_' + source)} · {t('col_' + count)}"
        for source in ("events", "items", "users")
        for count in CHARTED
    }
    chart = charts.daily_bars(found.daily, t("chart_write_problems"), t("axis_rows"), names)
    return {
        "per_day": found.per_day,
        "latest": found.latest,
        "chart": chart if found.daily.days else None,
        "days": DAYS,
        "kept": MAX_REJECTIONS_LOGGED,
    }


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def freshness_days(newest_ms: int | None, latest_event_ms: int | None) -> float | None:
    """Days between the newest catalogue item and the latest event (how stale the catalogue is)."""
    if newest_ms is None or latest_event_ms is None:
        return None
    return (latest_event_ms - newest_ms) / DAY_MS


def push(page: Page, params: Mapping[str, str]) -> dict[str, Any]:
    """The plan form once push planning has landed, and a preview when the form was sent."""
    landed = capability(page.engine, "push_plan") is not None
    context: dict[str, Any] = {"push_plan": landed, "form": PushForm(), "plan": None, "error": None}
    if not landed or "preview" not in params:
        return context
    try:
        context["form"] = PushForm.of(params)
        context["plan"] = push_preview.preview(page.engine, context["form"], page.t)
    except TailorError as exc:
        context["error"] = exc.message
    return context


def experiments(page: Page) -> dict[str, Any]:
    report = _call(page, "experiments", shape=lambda r: _report_rows(page, r))
    rows = report.get("value") or []
    variants = [r for r in rows if r["variant"] is not None]
    figures = [
        charts.rates_with_intervals(
            [f"{r['scenario']} · {r['experiment']} · {r['variant']}" for r in variants],
            [r[key] for r in variants],
            page.t(title),
        )
        for key, title in (("ctr", "chart_ctr"), ("conversion", "chart_conversion"))
        if variants
    ]
    return {"report": report, "figures": figures}


def _report_rows(page: Page, report: Any) -> list[dict[str, Any]]:
    """The online report's rows, scenario names in the page's language."""

    def rate(value: Any) -> dict[str, float | None]:
        return {"value": value.value, "low": value.low, "high": value.high}

    return [
        {
            "scenario": page.t.scenario(row.scenario),
            "experiment": row.experiment,
            "variant": row.variant,
            "served": row.served,
            "shown": row.shown,
            "clicks": row.clicks,
            "conversions": row.conversions,
            "ctr": rate(row.ctr),
            "conversion": rate(row.conversion_rate),
        }
        for row in report.rows
    ]
