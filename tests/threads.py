"""One thread for tiny networks: with two threads on two cores shared by other processes,
OpenMP's waiting makes small layers many times slower; one thread is as fast when idle."""

import contextlib

import torch


@contextlib.contextmanager
def one_thread():
    """Run the block (or decorated function) with ``torch.set_num_threads(1)``, restoring
    the setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
