"""Suite-wide settings."""
import os

import torch


def pytest_configure(config) -> None:
    # Under pytest-xdist (make test runs one worker per core) each worker keeps
    # to one thread: two workers with two OpenMP threads each on two cores
    # stall at every parallel region.
    if os.environ.get('PYTEST_XDIST_WORKER'):
        torch.set_num_threads(1)
