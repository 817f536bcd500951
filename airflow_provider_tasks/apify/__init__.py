"""Apify: Actor tasks and Actors, their runs, datasets and key-value stores."""

PLATFORM = "Apify"
"""The platform's name in messages and log lines."""
