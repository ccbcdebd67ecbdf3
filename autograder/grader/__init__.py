"""Grading a class: find submissions, extract answers, assemble, execute confined, score, report, gradebook."""
