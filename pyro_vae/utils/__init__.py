"""Small utilities with no Pyro inside: atomic files, RNG state, allocator tuning."""
