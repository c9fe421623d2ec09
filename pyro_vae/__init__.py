"""pyro_vae: disentangling and identifiable VAEs as Pyro model/guide pairs."""

__version__ = "0.1.0.dev0"
