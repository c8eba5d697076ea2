"""Sans-I/O Engine.IO v4 and Socket.IO v5: text and bytes in, packets and bytes out.

Nothing here does I/O, reads the clock or imports beyond the standard library.
"""
