"""The final score: deadlines, late penalties and the instructor's overrides, applied to the records."""
