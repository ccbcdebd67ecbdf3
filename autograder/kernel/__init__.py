"""Code that runs inside the student's kernel or launches it (launcher, guard): the grader never imports it."""
