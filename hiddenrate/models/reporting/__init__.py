"""Models for recorded counts and survey reporting rates."""
