"""Original files, kept content-addressed by SHA-256 under the data dir."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def original_path(files_dir: Path, sha256: str) -> Path:
    return files_dir / "sha256" / sha256[:2] / sha256


def keep_original(files_dir: Path, source: Path, sha256: str) -> Path:
    """Store `source` under its hash (once); return the stored path."""
    target = original_path(files_dir, sha256)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return target
