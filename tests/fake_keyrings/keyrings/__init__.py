"""Stands for the `keyrings` namespace of keyrings.alt, on PYTHONPATH only in one test."""
