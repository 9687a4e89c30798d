"""Xinex: monitoring and on-call platform."""

__version__ = "0.1.0"
