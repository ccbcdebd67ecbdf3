"""What an LMS download's file names say about who submitted and whether it was late.

Canvas's "Download Submissions" zip (canvas-lms, lib/content_zipper.rb: get_filename, add_upload_submission) names
each uploaded file

    <name>[_LATE]_<user id>_<file id>_<file name>        e.g. smithjohn_LATE_12345_678901_realnvp.ipynb
    [LATE_]anon_<anonymous id>_<file id>_<file name>     when the assignment is graded anonymously

where <name> is the student's sortable name, lower-cased, with every character that is not a letter, digit or
underscore removed, and LATE marks a submission Canvas counts as late (against the student's own due date). The
zip's entries carry the time the zip was made, not the time of submission (rubyzip's default), so a Canvas name
says late or not, never when.
"""

import re
from dataclasses import dataclass

_NAMED = re.compile(r"^(?:(?P<name>\w*?)_)?(?:(?P<late>LATE)_)?(?P<user>\d+)_(?P<file>\d+)_(?P<rest>.+)$")
_ANONYMOUS = re.compile(r"^(?:(?P<late>LATE)_)?anon_(?P<anon>[A-Za-z0-9]+)_(?P<file>\d+)_(?P<rest>.+)$")


@dataclass(frozen=True)
class CanvasName:
    student_id: str  # <name>_<user id> (unique and readable), or anon_<anonymous id>
    user_id: str  # Canvas's user id ("" when anonymous): the roster's ID column
    late: bool
    file_name: str  # the name the student gave the file


def canvas_name(file_name):
    """The CanvasName that file_name carries, or None when it is not named the way Canvas's download names files."""
    match = _ANONYMOUS.match(file_name)
    if match:
        return CanvasName(f"anon_{match['anon']}", "", bool(match["late"]), match["rest"])
    match = _NAMED.match(file_name)
    if match:
        student = f"{match['name']}_{match['user']}" if match["name"] else match["user"]
        return CanvasName(student, match["user"], bool(match["late"]), match["rest"])
    return None
