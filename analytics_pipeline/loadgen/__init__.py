"""Synthetic load: realistic events generated from a seed and sent through the SDK."""
