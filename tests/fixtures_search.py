"""Shared pytest fixtures for the search tests (loaded by conftest.py)."""
