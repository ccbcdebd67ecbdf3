"""Gradescope: its results.json from a Record (results.py), the autograder zip (package.py), and what the zip's
run_autograder runs in Gradescope's container (run.py).
"""
