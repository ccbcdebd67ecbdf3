"""A run of the grader: a class (grade), a merge of shards, every class-level file of OUT, one notebook checked."""
