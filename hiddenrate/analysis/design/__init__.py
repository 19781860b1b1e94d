"""Plan a study before collecting it: simulate candidate designs, fit each with the model hiddenrate
would use, report expected interval width, coverage and power (docs/methods.md#design)."""
