import json
import time
from pathlib import Path

import pytest
import torch

from repcore.fixtures.cache import ArtifactError, artifact_paths, load_or_build, read_artifact, write_artifact
from repcore.fixtures.spec import FORMAT_VERSION


def _payload():
    return {"w": torch.arange(6.0).view(2, 3)}


def test_round_trip_returns_payload_and_meta(cache_dir):
    write_artifact(cache_dir, "k1", _payload(), {"name": "m"})
    payload, meta = read_artifact(cache_dir, "k1")
    assert torch.equal(payload["w"], _payload()["w"])
    assert meta["name"] == "m" and meta["key"] == "k1" and meta["format"] == FORMAT_VERSION


def test_writes_leave_no_temporary_files(cache_dir):
    meta = write_artifact(cache_dir, "k1", _payload(), {})
    assert sorted(str(p.relative_to(cache_dir)) for p in cache_dir.rglob("*")) == [
        "k1.json", "objects", f"objects/{meta['sha256']}"]


@pytest.mark.parametrize("damage, reason", [
    (lambda pt, js: pt.write_bytes(pt.read_bytes()[:100]), "checksum"),
    (lambda pt, js: pt.unlink(), "missing"),
    (lambda pt, js: js.write_text(js.read_text()[:20]), "not valid JSON"),
    (lambda pt, js: js.write_text(json.dumps({**json.loads(js.read_text()), "format": -1})),
     "another format version"),
    (lambda pt, js: js.unlink(), "no artifact"),
])
def test_damaged_artifact_is_detected(cache_dir, damage, reason):
    write_artifact(cache_dir, "k1", _payload(), {})
    damage(*artifact_paths(cache_dir, "k1"))
    with pytest.raises(ArtifactError, match=reason):
        read_artifact(cache_dir, "k1")


def test_truncated_artifact_is_rebuilt_not_used(cache_dir):
    write_artifact(cache_dir, "k1", {"w": torch.zeros(3)}, {})
    pt, _ = artifact_paths(cache_dir, "k1")
    pt.write_bytes(pt.read_bytes()[:-10])
    lines = []
    payload, _, built = load_or_build(cache_dir, "k1", lambda: ({"w": torch.ones(3)}, {}), lines.append)
    assert built and torch.equal(payload["w"], torch.ones(3))
    assert any("rebuilding" in line and "checksum" in line for line in lines)
    assert torch.equal(read_artifact(cache_dir, "k1")[0]["w"], torch.ones(3))


def test_valid_artifact_is_loaded_without_building(cache_dir):
    write_artifact(cache_dir, "k1", _payload(), {})

    def fail():
        raise AssertionError("must not build a cached artifact")

    _, _, built = load_or_build(cache_dir, "k1", fail)
    assert not built


def _slow_build():
    time.sleep(1.0)
    return {"w": torch.ones(2)}, {}


def _build_once(cache_dir, key, barrier, results):
    barrier.wait()
    results.put(load_or_build(cache_dir, key, _slow_build)[2])


def test_two_processes_racing_build_once(cache_dir, race):
    assert race(_build_once, cache_dir, "k1") == [False, True]


def test_a_fresh_build_returns_the_metadata_a_later_read_returns(cache_dir):
    """A model trained in this process is attacked at once (its outcome is keyed on the artifact's
    sha256): the build must hand back the checksummed record, not the builder's bare metadata."""
    _, built_meta, built = load_or_build(cache_dir, "k1", lambda: (_payload(), {"name": "m"}))
    assert built and built_meta == read_artifact(cache_dir, "k1")[1]
    assert built_meta["sha256"]


def test_an_artifact_of_the_earlier_layout_is_moved_into_objects_when_its_bytes_match(cache_dir):
    meta = write_artifact(cache_dir, "k1", _payload(), {})
    (cache_dir / "objects" / meta["sha256"]).rename(cache_dir / "k1.pt")  # the earlier layout: <key>.pt
    payload, _ = read_artifact(cache_dir, "k1")
    assert torch.equal(payload["w"], _payload()["w"])
    assert not (cache_dir / "k1.pt").exists() and (cache_dir / "objects" / meta["sha256"]).exists()


def test_an_artifact_of_the_earlier_layout_with_other_bytes_is_rebuilt_not_moved(cache_dir):
    meta = write_artifact(cache_dir, "k1", _payload(), {})
    (cache_dir / "objects" / meta["sha256"]).unlink()
    (cache_dir / "k1.pt").write_bytes(b"another writer's bytes")
    with pytest.raises(ArtifactError, match="k1.pt does not match its checksum"):
        read_artifact(cache_dir, "k1")
    payload, _, built = load_or_build(cache_dir, "k1", lambda: (_payload(), {}))
    assert built and read_artifact(cache_dir, "k1")[1]["sha256"] == meta["sha256"]


@pytest.mark.parametrize("text, location", [
    ("s3://bucket/prefix/", "s3://bucket/prefix"),
    ("gs://bucket", "gs://bucket"),
    ("file:///tmp/zoo", Path("/tmp/zoo")),
    ("relative/zoo", Path("relative/zoo")),
])
def test_a_cache_dir_is_a_url_with_a_scheme_else_a_folder(text, location):
    from repcore.fixtures.store import cache_location
    assert cache_location(text) == location


def test_a_url_whose_filesystem_is_not_installed_names_the_extra_to_install():
    import importlib.util
    from repcore.fixtures import store
    if importlib.util.find_spec("gcsfs"):
        pytest.skip("gcsfs is installed here")
    with pytest.raises(ValueError, match=r"gs://bucket/zoo: .*repcore\[gcs\]"):
        store.read_bytes("gs://bucket/zoo", "k.json")
