"""The bottom layer: the exercise, a student's record and its test results, OUT's layout, the atomic writer."""
