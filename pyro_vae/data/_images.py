"""Image resizing shared by the file loaders whose originals are not 64 x 64 (Cars3D, NORB)."""

from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = ["resize_uint8"]


def resize_uint8(images: np.ndarray, size: int = 64) -> np.ndarray:
    """Resize ``uint8`` images to ``size x size`` with PIL's Lanczos filter.

    PIL's Lanczos filter is what ``PIL.Image.ANTIALIAS`` named (removed in Pillow 10), the
    filter disentanglement_lib resizes Cars3D and SmallNORB with; PIL rounds the result to
    ``uint8``. Images already ``size x size`` are returned unchanged.

    :param numpy.ndarray images: ``(n, H, W)`` grey or ``(n, H, W, 3)`` RGB, ``uint8``.
    :param int size: side of the result.
    :returns: ``(n, size, size)`` or ``(n, size, size, 3)`` ``uint8``.
    :rtype: numpy.ndarray
    """
    images = np.asarray(images)
    if images.shape[1:3] == (size, size):
        return images
    out = np.empty((len(images), size, size, *images.shape[3:]), dtype=np.uint8)
    for i, image in enumerate(images):
        pic = Image.fromarray(np.ascontiguousarray(image))
        out[i] = np.asarray(pic.resize((size, size), Image.LANCZOS))
    return out
