"""Explaining a failure: the API check, hints per category and per provider."""
