"""core/ids.py: a student id as a file name."""

from autograder.grader.core.ids import safe_name


def test_safe_name_keeps_unicode_and_spaces_but_not_separators():
    assert safe_name("José Ñúñez 李") == "José Ñúñez 李"
    assert "/" not in safe_name("../../etc/passwd") and not safe_name("..").startswith(".")
