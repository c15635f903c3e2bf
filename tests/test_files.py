"""Atomic writes of a file and of a folder of files (repcore/files.py)."""

import pytest

from repcore.files import atomic_write, replace_folder


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "claims.json"
    atomic_write(path, b"old")
    with pytest.raises(TypeError):
        atomic_write(path, "not bytes")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["claims.json"]


def test_a_folder_is_replaced_whole(tmp_path):
    folder = tmp_path / "figures"
    replace_folder(folder, {"a.png": b"1", "b.png": b"2"})
    replace_folder(folder, {"c.png": b"3"})
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {"c.png": b"3"}
    assert [p.name for p in tmp_path.iterdir()] == ["figures"]


def test_a_failed_folder_write_leaves_the_old_folder_and_no_temporary(tmp_path):
    folder = tmp_path / "figures"
    replace_folder(folder, {"a.png": b"1"})
    with pytest.raises(FileNotFoundError):
        replace_folder(folder, {"b.png": b"2", "missing/c.png": b"3"})
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {"a.png": b"1"}
    assert [p.name for p in tmp_path.iterdir()] == ["figures"]
