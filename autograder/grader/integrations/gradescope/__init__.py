"""Gradescope: results.json and the autograder zip."""
