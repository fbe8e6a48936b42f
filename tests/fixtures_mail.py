"""Shared pytest fixtures for the mail tests (loaded by conftest.py)."""
