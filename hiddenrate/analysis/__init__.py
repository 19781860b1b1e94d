"""Functions from a result to a result: sensitivity, fragility, claims, suppression."""
