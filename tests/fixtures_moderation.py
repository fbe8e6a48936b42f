"""Shared pytest fixtures for the moderation tests (loaded by conftest.py)."""
