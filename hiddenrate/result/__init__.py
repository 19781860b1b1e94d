"""The Result value that models build (a leaf value, as ArviZ's InferenceData) and its save/load."""
