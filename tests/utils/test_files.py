import json

import pytest

from pyro_vae.utils.files import atomic_open, write_json


def test_atomic_open(tmp_path):
    path = tmp_path / "out.txt"
    with atomic_open(path, "w") as f:
        f.write("first")
        assert not path.exists()  # nothing under the final name until the block succeeds
    assert path.read_text() == "first"
    with pytest.raises(RuntimeError), atomic_open(path, "wb") as f:
        f.write(b"half")
        raise RuntimeError("interrupted")
    assert path.read_text() == "first"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temporary left
    with pytest.raises(ValueError, match="mode"), atomic_open(path, "a"):
        pass


def test_write_json_is_atomic_and_readable(tmp_path):
    path = tmp_path / "sub" / "config.json"
    write_json(path, {"b": 1, "a": [1, 2]})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.json"]


def test_atomic_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    path = tmp_path / "x.txt"
    with atomic_open(path) as f:
        f.write("x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
