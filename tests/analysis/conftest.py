"""Analysis tests run their tiny convolutions on one thread.

With two threads on two cores shared by other processes, OpenMP's waiting
makes a 16x16 convolution ~100x slower (0.4 s against 1.5 ms measured on
this machine under load); one thread is as fast when the machine is idle.
"""

import pytest

from tests.threads import one_thread


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield
