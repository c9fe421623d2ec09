"""Sphinx configuration of the pyro_vae documentation (built by `make docs`)."""

import pyro_vae

project = "pyro_vae"
author = "pyro_vae developers"
release = pyro_vae.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_parser",
]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_use_param = True
html_theme = "alabaster"
html_static_path: list[str] = []
suppress_warnings = ["myst.header"]
