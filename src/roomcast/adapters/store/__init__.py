"""History stores: :class:`MemoryStore` for tests and one-process demos, :class:`SqliteStore`
for durable single-machine deployments, :class:`PostgresStore` for many processes and machines.
All pass ``tests/adapters/test_store_contract.py``."""

from roomcast.adapters.store.memory import MemoryStore
from roomcast.adapters.store.postgres import PostgresStore
from roomcast.adapters.store.sqlite import SqliteStore

__all__ = ["MemoryStore", "PostgresStore", "SqliteStore"]
