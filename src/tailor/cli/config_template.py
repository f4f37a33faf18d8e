"""The commented settings file `tailor init` writes. Every key is optional; these are the defaults."""

CONFIG_TEMPLATE = """\
# Tailor settings. Every key is optional: the values shown are the defaults.
# Any key can be overridden from the environment: TAILOR_STORE_URL, TAILOR_SERVICE__PORT=9000, ...
# An unknown key is an error, so a typo does not pass silently.

# Where events, items and users live. One SQLite file needs nothing installed;
# PostgreSQL for production: "postgresql+psycopg://user:password@127.0.0.1:5432/tailor"
store_url = "sqlite:///var/tailor.db"

# Trained model versions: one directory each, plus a CURRENT pointer.
artifacts_dir = "var/artifacts"

[service]
host = "127.0.0.1"
port = 8000
max_batch_events = 10000   # events per POST /v1/events
max_k = 500                # largest k a request may ask for
recent_events = 50         # latest events per user the models encode
history_events = 2000      # latest events per user the rules look at (seen, bought, disliked)
auth = true                # API keys required (`tailor keys`); false opens every route to anyone
key_cache_seconds = 10     # a revoked key is refused by running servers within this time
max_body_bytes = 16777216  # bigger request bodies are refused with 413
cors_origins = []          # browser origins allowed to call the API, e.g. ["https://shop.example"]
warm_up = true             # on start, load the language model and campaign snapshot in the background

# Requests per second and burst per API key, by the key's role (over it: 429 with Retry-After).
[service.rate_limits]
ingest = { per_second = 500, burst = 1000 }
read = { per_second = 500, burst = 1000 }
metrics = { per_second = 2, burst = 10 }
admin = { per_second = 100, burst = 200 }

# Several `tailor serve` replicas (docs/deployment.md) share one Redis for rate limits and
# catalogue changes: redis_url = "redis://127.0.0.1:6379/0". Empty: in-process, one server.
[cache]
redis_url = ""
key_prefix = "tailor:"     # before every Redis key, so shops can share one Redis
follow_seconds = 0.25      # catalogue changes of other replicas are looked for this often

# Store user ids as HMAC-SHA256 pseudonyms (docs/privacy.md). Put the key (32+ characters) in
# the environment, TAILOR_PRIVACY__KEY, not in this file.
[privacy]
pseudonymize = false

[ingest]
max_text_length = 10000
max_id_length = 256
# Weight of each event kind; built-in kinds not listed keep their default weight.
# Kinds with weight 0 are recorded but are not interactions; negative ones are masked.
[ingest.event_weights]
view = 1.0
click = 2.0
favorite = 4.0
cart = 6.0
purchase = 10.0

[train]
models = ["popular", "itemknn", "als", "ease", "cobought"]
threads = 2
random_state = 42
# Served recommendations fuse the models' rankings; a weight of 0 leaves a model out.
# blend_weights = { popular = 0.5, ease = 2.0 }

# cobought: "frequently bought together" from items carted or bought in one session
# (a run of cart/purchase events without a 30-minute gap); it weighs 0 in the blend
# unless blend_weights names it.

# Hyperparameters per model, e.g.:
# [train.model_params.als]
# factors = 64
"""
