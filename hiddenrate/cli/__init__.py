"""Command-line interface (placeholder until the commands land)."""


def main() -> None:  # pragma: no cover - replaced by the click group
    raise SystemExit("hiddenrate CLI is not built yet")
