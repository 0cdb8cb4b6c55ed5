"""Loading events and user cards from JSON lines, CSV and Parquet files (docs/loading.md)."""

from __future__ import annotations

from rawexport.store.loading.lease import LeaseLapsed, Ledger
from rawexport.store.loading.load import load_file
from rawexport.store.loading.readers import FILE_FORMATS
from rawexport.store.loading.results import LoadError, LoadReport

__all__ = ["FILE_FORMATS", "LeaseLapsed", "Ledger", "LoadError", "LoadReport", "load_file"]
