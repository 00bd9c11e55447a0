"""Helpers for scripts/make_devset.py (see its docstring)."""
