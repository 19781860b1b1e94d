"""Record linkage: from one file of records per source to the matched lists the list models read.

Beside :mod:`hiddenrate.models` in the layers (docs/ARCHITECTURE.md): it reads records with its own
validated readers, links them (splink, loaded only inside the function that links), and returns
numbers: pairwise match probabilities, clusters, list tables and plausible linkages drawn from the
probabilities. Fitting list models to those linkages and pooling them is :mod:`hiddenrate.api.linkage`.
"""
