"""Files an LMS download or a student's folder holds that are nobody's submission: system metadata and checkpoints.
They are ignored, and the run's warnings list them once."""

IGNORED = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini", ".ipynb_checkpoints", "gradebook.db"}


def is_junk(name):
    """True for a file or folder name that is system metadata (dot files included), not a submission."""
    return name in IGNORED or name.startswith(".")
