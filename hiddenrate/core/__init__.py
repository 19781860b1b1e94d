"""The leaf layer: exceptions, cell patterns, distributions, diagnostics, interval levels, provenance."""
