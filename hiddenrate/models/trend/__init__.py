"""Change over time: periods fitted jointly."""
