"""One submission from file to scored tests: answers, the graded notebook, the confined kernel, the score."""
