"""Implementations of the ports in :mod:`roomcast.ports`: history stores and buses."""
