import pytest

from pipeline_repo import KMNIST_MIRROR


@pytest.fixture
def kmnist_mirror():
    """The shared folder of official KMNIST files that sits beside the repository (CI provides it)."""
    if not KMNIST_MIRROR.is_dir():
        pytest.skip(f"KMNIST mirror not found at {KMNIST_MIRROR} (expected ../shared/kmnist beside the repo)")
    return KMNIST_MIRROR
