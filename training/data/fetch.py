"""Download a public copy of a data set. Only ever run by hand: nothing fetches at run time."""

from __future__ import annotations

import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

ARCHIVES = {
    # GitHub's archive of each repository's default branch.
    "audiomnist": "https://github.com/soerenab/AudioMNIST/archive/refs/heads/master.zip",
    "fsdd": "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/master.zip",
}
# The part of each archive that the loaders read, and where it goes under `dest`.
KEEP = {"audiomnist": "data", "fsdd": "recordings"}


def fetch(dataset: str, dest: Path) -> Path:
    """Download and unpack `dataset` into dest/<dataset>/ (AudioMNIST is ~1 GB)."""
    target = dest / dataset
    if (target / KEEP[dataset]).is_dir():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "archive.zip"
        with urllib.request.urlopen(ARCHIVES[dataset]) as response, archive.open("wb") as out:
            shutil.copyfileobj(response, out)
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(tmp)
        (source,) = [p for p in Path(tmp).iterdir() if p.is_dir()]
        target.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source / KEEP[dataset]), str(target / KEEP[dataset]))
    return target
