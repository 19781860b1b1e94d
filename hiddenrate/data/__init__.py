"""Validated, immutable input containers and the readers that build them."""

from hiddenrate.data.lists import CaptureCountData, ListData, ListTable, read_capture_counts, read_list_input, read_lists

__all__ = ["CaptureCountData", "ListData", "ListTable", "read_capture_counts", "read_list_input", "read_lists"]
