"""Shared pytest fixtures for the forum tests (loaded by conftest.py)."""
