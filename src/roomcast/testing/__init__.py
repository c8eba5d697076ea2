"""Servers and helpers for testing Roomcast and clients against it."""
