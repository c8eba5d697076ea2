"""Python clients of a Roomcast server (see docs/howto)."""
