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
recent_events = 50         # latest events per user read at request time

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
models = ["popular", "itemknn", "als", "ease"]
threads = 2
random_state = 42
# Served recommendations fuse the models' rankings; a weight of 0 leaves a model out.
# blend_weights = { popular = 0.5, ease = 2.0 }

# Hyperparameters per model, e.g.:
# [train.model_params.als]
# factors = 64
"""
