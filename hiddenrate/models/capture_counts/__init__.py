"""Models for number-of-captures data from one source."""
