"""The export engine: a JobSpec in, a ZIP of one file per event, users and manifest out."""

from __future__ import annotations

from rawexport.export.engine import plan_report, run_export
from rawexport.export.report import ExportResult, FileStat

__all__ = ["ExportResult", "FileStat", "plan_report", "run_export"]
