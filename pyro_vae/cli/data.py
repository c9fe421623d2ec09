"""``pyro-vae data``: list the datasets and whether their files are present; fetch files.

``pyro-vae data list [--root DIR]`` shows every registered dataset, whether it is procedural
or reads files, and (with ``--root``) whether those files are under ``DIR``.

``pyro-vae data fetch NAME --root DIR`` downloads the files of ``NAME`` into the layout its
loader reads (checksums verified, written atomically; see :mod:`pyro_vae.data.download`), or,
without internet access, prints which files to get from where, where to put them and their
checksums. ``--instructions`` prints those instructions without trying the network.
"""

from __future__ import annotations

import argparse
import sys
import urllib.request
from pathlib import Path

from pyro_vae.data import dataset_entries
from pyro_vae.data.download import DownloadError, fetch
from pyro_vae.data.sources import SOURCES, get_source


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "data",
        help="list datasets and their files; download (fetch) dataset files",
        description="List the datasets and whether their files are present under a data "
        "root; download a dataset's files with checksum verification, or print where to get "
        "them and where they go.",
    )
    commands = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    commands.required = True
    listing = commands.add_parser(
        "list",
        help="every dataset: procedural or from files, and whether the files are present",
    )
    listing.add_argument("--root", help="data root to look for the files in (--data-root)")
    listing.set_defaults(func=run_list)
    fetching = commands.add_parser(
        "fetch",
        help="download a dataset's files (or print how to get them)",
        description="Download the files of a dataset into DIR, in the layout its loader "
        "reads, verifying checksums; without internet access, print the addresses, file names, "
        "folders and checksums to get them by hand.",
    )
    fetching.add_argument("name", help="dataset name (see `pyro-vae data list`)")
    fetching.add_argument("--root", required=True, help="data root (what fit's --data-root is)")
    fetching.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per connection and read (default 60)"
    )
    fetching.add_argument(
        "--instructions",
        action="store_true",
        help="only print where to get the files and where they go",
    )
    fetching.set_defaults(func=run_fetch)


def _status(name: str, root: str | None) -> str:
    source = SOURCES.get(name)
    if source is None:
        return "files: see the dataset's documentation"
    if root is None:
        return "files: pass --root to check"
    missing = source.missing(root)
    if not missing:
        return f"present under {source.folder(root)}"
    root_path = Path(root).expanduser()
    shown = ", ".join(
        str(f.path(root).relative_to(root_path)) + (f" ({f.group} split)" if f.group else "")
        for f in missing
    )
    return f"missing {len(missing)} of {len(source.files)}: {shown}"


def run_list(args: argparse.Namespace) -> int:
    where = f" under {args.root}" if args.root else ""
    print(f"datasets (--dataset) and their files{where}:")
    for name, entry in dataset_entries().items():
        kind = "needs files" if entry.needs_files else "procedural"
        status = _status(name, args.root) if entry.needs_files else "nothing to download"
        print(f"  {name:<16} {kind:<12} {status}")
        print(f"  {'':<16} {entry.summary}")
    if not args.root:
        print("`pyro-vae data list --root DIR` says which files are present under DIR.")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    entries = dataset_entries()
    if args.name not in entries:
        raise ValueError(f"unknown dataset {args.name!r}; valid datasets: {', '.join(entries)}")
    if not entries[args.name].needs_files:
        print(f"{args.name} is procedural: there is nothing to download.")
        return 0
    source = get_source(args.name)
    if args.instructions:
        print(source.instructions(args.root))
        return 0
    try:
        paths = fetch(source, args.root, urlopen=urllib.request.urlopen, timeout=args.timeout)
    except DownloadError as e:
        print(f"pyro-vae data fetch: {e}", file=sys.stderr)
        return 1
    print(f"{args.name}: {len(paths)} file(s) ready under {source.folder(args.root)}")
    print(f"use them with: pyro-vae fit --dataset {args.name} --data-root {args.root} ...")
    return 0
