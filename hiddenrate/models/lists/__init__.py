"""Models for overlapping lists (multiple systems estimation)."""
