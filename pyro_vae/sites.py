"""Site-name contract shared by models, priors and losses.

* Local (per-example) sites live inside ``pyro.plate(DATA_PLATE, ...)``.
* The default single latent site is ``"z"``; hierarchies use ``"z1" ... "zL"``.
* Observations are ``"x"``; auxiliary observed labels ``"u"`` / ``"a"``.
* Global latents (an adjacency matrix, spike probabilities) live outside the
  data plate.

Losses find latent sites from the traces and a declared site name, never
from a model's class.
"""

DATA_PLATE = "data"
LATENT = "z"
OBSERVED = "x"
CONTEXT = "u"
