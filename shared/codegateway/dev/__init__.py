"""The local stack: the upstream emulator and `cgw dev`. Not used by deployed functions."""
