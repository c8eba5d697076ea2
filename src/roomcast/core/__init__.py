"""Sans-I/O domain: rooms, members, presence, validation, limits, recovery.

Commands in, effects out; the clock and ids are passed in. Only the standard library
and ``roomcast.protocol`` may be imported here (a test checks it).
"""
