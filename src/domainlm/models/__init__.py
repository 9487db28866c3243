"""Base models and embedders, by alias or local path."""
