"""The ``roomcast`` subcommands other than ``serve``, one module each."""
