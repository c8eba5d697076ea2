"""The demos of ``roomcast demo``: the classic live-page tutorials, each one command."""
