"""The joint model: lists, counts and surveys together."""
