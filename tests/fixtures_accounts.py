"""Shared pytest fixtures for the accounts tests (loaded by conftest.py)."""
