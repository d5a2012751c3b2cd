import gzip
import struct
import urllib.error
import urllib.request

import numpy as np
import pytest

from glyphgen.data import kmnist
from glyphgen.data.kmnist import FetchConfig, fetch_kmnist, read_idx, read_npz_array
from glyphgen.errors import GlyphgenError


@pytest.fixture(autouse=True)
def no_env_mirror(monkeypatch):
    monkeypatch.delenv(kmnist.MIRROR_ENV, raising=False)
    monkeypatch.setattr(kmnist.time, "sleep", lambda seconds: None)


def test_npz_and_idx_formats_give_identical_arrays(kmnist_mirror, tmp_path):
    from_npz, _ = fetch_kmnist(FetchConfig(mirror=str(kmnist_mirror), format="npz"), tmp_path)
    from_idx, _ = fetch_kmnist(FetchConfig(mirror=str(kmnist_mirror), format="idx"), tmp_path)
    for split, size in [("train", 60000), ("test", 10000)]:
        assert from_npz[split].images.shape == (size, 28, 28) and from_npz[split].images.dtype == np.uint8
        np.testing.assert_array_equal(from_npz[split].images, from_idx[split].images)
        np.testing.assert_array_equal(from_npz[split].labels, from_idx[split].labels)
    assert from_npz["test"].class_names == ["お", "き", "す", "つ", "な", "は", "ま", "や", "れ", "を"]


def test_environment_mirror_wins_over_params_and_file_urls_work(kmnist_mirror, tmp_path, monkeypatch):
    monkeypatch.setenv(kmnist.MIRROR_ENV, kmnist_mirror.as_uri())
    path = kmnist.fetch(kmnist.CLASS_MAP, FetchConfig(mirror="/no/such/folder"), tmp_path)
    assert path == kmnist_mirror / kmnist.CLASS_MAP


def test_wrong_md5_is_rejected(kmnist_mirror, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / kmnist.CLASS_MAP).write_bytes((kmnist_mirror / kmnist.CLASS_MAP).read_bytes() + b"\n")
    with pytest.raises(GlyphgenError, match="does not match the official 899202f6"):
        kmnist.fetch(kmnist.CLASS_MAP, FetchConfig(mirror=str(mirror)), tmp_path)


def test_download_retries_then_verifies(kmnist_mirror, tmp_path, monkeypatch):
    real_urlopen, calls = urllib.request.urlopen, []

    def flaky_urlopen(url, timeout):
        calls.append(url)
        if len(calls) == 1:
            raise urllib.error.URLError("connection reset")
        return real_urlopen(url, timeout=timeout)

    monkeypatch.setattr(urllib.request, "urlopen", flaky_urlopen)
    path = kmnist.fetch(kmnist.CLASS_MAP, FetchConfig(url=kmnist_mirror.as_uri()), tmp_path)
    assert len(calls) == 2 and path.read_bytes() == (kmnist_mirror / kmnist.CLASS_MAP).read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [kmnist.CLASS_MAP]  # no temporary leftovers


def test_no_network_and_no_mirror_says_what_to_set(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(GlyphgenError, match="set GLYPHGEN_KMNIST_MIRROR or params.yaml:fetch_kmnist.mirror"):
        kmnist.fetch(kmnist.CLASS_MAP, FetchConfig(retries=2), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_truncated_npz_and_gzip_are_errors(kmnist_mirror, tmp_path):
    truncated_npz = tmp_path / "imgs.npz"
    truncated_npz.write_bytes((kmnist_mirror / "kmnist-test-labels.npz").read_bytes()[:2000])
    with pytest.raises(GlyphgenError, match="truncated npz"):
        read_npz_array(truncated_npz)
    truncated_gz = tmp_path / "labels.gz"
    truncated_gz.write_bytes((kmnist_mirror / "t10k-labels-idx1-ubyte.gz").read_bytes()[:2000])
    with pytest.raises(GlyphgenError, match="truncated gzip"):
        read_idx(truncated_gz, kmnist.IDX_LABELS_MAGIC)


def write_idx(path, magic, dims, payload):
    with gzip.open(path, "wb") as handle:
        handle.write(struct.pack(f">I{len(dims)}I", magic, *dims) + payload)


def test_idx_parser_checks_magic_and_sizes(tmp_path):
    path = tmp_path / "images.gz"
    write_idx(path, 0x0803, (2, 3, 4), bytes(range(24)))
    np.testing.assert_array_equal(read_idx(path, 0x0803), np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    with pytest.raises(GlyphgenError, match="expected IDX magic number 0x0801"):
        read_idx(path, 0x0801)
    write_idx(path, 0x0803, (2, 3, 4), bytes(23))
    with pytest.raises(GlyphgenError, match=r"need 24 bytes, found 23"):
        read_idx(path, 0x0803)


def test_corrupt_download_leaves_no_file(tmp_path):
    server = tmp_path / "server"
    server.mkdir()
    (server / kmnist.CLASS_MAP).write_text("index,codepoint,char\n0,U+0041,A\n")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with pytest.raises(GlyphgenError, match="does not match the official"):
        kmnist.fetch(kmnist.CLASS_MAP, FetchConfig(url=server.as_uri()), downloads)
    assert list(downloads.iterdir()) == []
