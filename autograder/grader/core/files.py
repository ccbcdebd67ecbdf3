"""Writing files so that a reader, or a rerun after kill -9, sees the old file or the new one, never half."""

import os


def write_atomic(path, text):
    """Write text to path so that a reader (or a re-run after kill -9) sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
