"""A tiny procedural ground-truth dataset for tests: a 3x3 white square on a
16x16 canvas; factors posX and posY (8 values each)."""

import numpy as np
import torch

from pyro_vae.data import FactorGridDataset, register_dataset


class ToySquares(FactorGridDataset):
    factor_names = ("posX", "posY")
    factor_sizes = (8, 8)
    observation_shape = (1, 16, 16)

    def observations_from_factors(self, factors):
        factors = self._check_factors(factors)
        images = np.zeros((len(factors), 1, 16, 16), dtype=np.float32)
        for i, (px, py) in enumerate(factors):
            images[i, 0, 2 * py + 1 : 2 * py + 4, 2 * px + 1 : 2 * px + 4] = 1.0
        return torch.from_numpy(images)


@register_dataset("toy-squares", "test dataset: a square at 8x8 positions on 16x16 pixels")
def _toy(root=None, **options):
    return ToySquares()
