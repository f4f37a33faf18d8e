"""Getting data in: one validator per table, chunked file loaders, public data sets, a synthetic shop.

validate_events / validate_items / validate_users   -> Validated(frame, rejected, duplicates)
import_file(store, table, path, settings=..., mapping=...)   -> ImportReport
import_dataset(store, name, path, settings)                 -> ImportReport
generate_shop(n_users, n_items, days=60, seed=0)             -> SyntheticShop
"""

from tailor.ingest.datasets import DATASETS, import_dataset
from tailor.ingest.files import import_file, read_chunks
from tailor.ingest.synthetic import ShopTruth, SyntheticShop, generate_shop
from tailor.ingest.validate import (
    Rejection,
    Validated,
    validate_events,
    validate_items,
    validate_users,
)
from tailor.ingest.writer import ImportReport, write_batch, write_frames

__all__ = [
    "DATASETS",
    "ImportReport",
    "Rejection",
    "ShopTruth",
    "SyntheticShop",
    "Validated",
    "generate_shop",
    "import_dataset",
    "import_file",
    "read_chunks",
    "validate_events",
    "validate_items",
    "validate_users",
    "write_batch",
    "write_frames",
]
