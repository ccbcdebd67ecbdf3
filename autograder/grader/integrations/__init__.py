"""The systems the grader meets: nbgrader's gradebook and formgrader, Gradescope, Canvas and Moodle."""
