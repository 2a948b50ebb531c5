"""Writing a file so that no reader ever sees half of it: a temporary file in the same
folder, renamed over the target."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(target: Path, data: bytes, keep_mode: bool = False) -> None:
    target = Path(target)
    mode = os.stat(target).st_mode if keep_mode and target.exists() else None
    fd, tmp = tempfile.mkstemp(dir=str(target.parent), prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
