"""The bottom layer: the assignment and its notebooks, a student's record and its test results, OUT's layout, the atomic writer."""
