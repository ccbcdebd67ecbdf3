"""OUT/report.html: the class at a glance after grading, from the records alone, with grades.csv's numbers.

Scores are read only through Record.score, Record.max_score, Record.points() and Record.tests (whatever
manual grades, overrides or penalties those fold in), so the page and grades.csv cannot disagree. Sections:
the score distribution and status counts; per test cell, in the master's order, with its part and points, who
passed and how the others failed (a visible check, or only a hidden one); the commonest failure messages per
test, grouped with their numbers, shapes and quoted names masked; the written answers a person grades (how many
are graded, how many await, their mean so far); the time per submission and the isolation; the leaderboard's top
ten when the master declares one.
"""

import html
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from autograder.grader.core.record import UNREAD, is_awaiting
from autograder.grader.reports.charts import histogram_svg, legend_html, stacked_bars_svg
from autograder.grader.reports.html_page import Links, page, table
from autograder.grader.reports.summary import isolation_summary
from autograder.notebooks import grade_id

PART_HEADING = re.compile(r"(Part\s+\w+)\s*[—–-]+\s*(.+?)\s*(?:\([^()]*points?\))?\s*$")
SECTION_HEADING = re.compile(r"^##\s+(.*)$", re.M)
GROUPS_SHOWN, IDS_SHOWN, SLOWEST, TOP = 5, 3, 5, 10
NO_RESULT = "no result for this test in the record"
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b")
_QUOTED = re.compile(r"'[^'\n]{0,120}'|\"[^\"\n]{0,120}\"")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?!\w)")
_BRACKETED = re.compile(
    r"\(\s*(?:N|…|\(…\)|\[…\])(?:\s*,\s*(?:N|…|\(…\)|\[…\]))*\s*,?\s*\)|\[\s*(?:N|…|\(…\)|\[…\])(?:\s*,\s*(?:N|…|\(…\)|\[…\]))*\s*,?\s*\]"
)


def parts_of(assignment):
    """grade_id -> "Part N — title" of the master's "## Part N — title (k points)" heading above each cell."""
    part, parts = "", {}
    for cell in assignment.cells:
        for heading in SECTION_HEADING.findall(cell.source) if cell.cell_type == "markdown" else ():
            found = PART_HEADING.match(heading)  # any other section ends the part ("## Does it invert? (not graded)")
            part = f"{found.group(1)} — {found.group(2)}" if found else ""
        if grade_id(cell):
            parts[grade_id(cell)] = part
    return parts


def message_group(message):
    """The failure message with what varies between students masked: numbers (N), shapes and lists ((…), […]),
    quoted names ('…'), addresses; so "off by up to 3.04" and "off by up to 0.7" are one group."""
    text = " ".join(message.split())[:300] or "(no message)"
    text = _NUMBER.sub("N", _QUOTED.sub("'…'", _HEX.sub("0x…", text)))
    previous = None
    while previous != text:  # nested lists fold from the inside out
        previous, text = text, _BRACKETED.sub(lambda m: "(…)" if m.group(0)[0] == "(" else "[…]", text)
    return text


def never_ran(record):
    """A submission graded without being run (not a notebook, a grader error): every test holds its one message."""
    return (
        bool(record.tests)
        and not any(t.points or t.visible_passed for t in record.tests)
        and {t.message for t in record.tests} == {record.message}
    )


@dataclass
class CellStats:
    """One test cell across the class: who passed (full points), and how the others failed."""

    grade_id: str
    part: str
    max_points: float
    passed: int = 0
    visible: int = 0  # failed a visible check (one the student could run), or the notebook stopped before the test
    hidden: int = 0  # the visible checks passed, a hidden one failed
    not_run: int = 0  # the submission was never run (not a notebook, a grader error)
    failures: list = field(default_factory=list)  # (student_id, message) of the visible and hidden failures

    def add(self, student_id, result, ran=True):
        if result is not None and result.points >= result.max_points:
            self.passed += 1
        elif not ran:
            self.not_run += 1
        else:
            hidden = result is not None and result.visible_passed
            self.hidden, self.visible = self.hidden + hidden, self.visible + (not hidden)
            self.failures.append((student_id, result.message if result is not None else NO_RESULT))

    @property
    def total(self):
        return self.passed + self.visible + self.hidden + self.not_run

    def groups(self):
        """[(masked message, [(student id, message)])], the commonest first (ties by masked message)."""
        by_group = {}
        for student_id, message in self.failures:
            by_group.setdefault(message_group(message), []).append((student_id, message))
        return sorted(by_group.items(), key=lambda item: (-len(item[1]), item[0]))


def cell_stats(assignment, records):
    """[CellStats] in the master's order (then any test only the records know), from each record's tests."""
    order = [gid for gid, _ in assignment.tests]
    order += list(dict.fromkeys(t.grade_id for r in records for t in r.tests if t.grade_id not in order and not t.manual))
    points, parts = dict(assignment.tests), parts_of(assignment)
    stats = {gid: CellStats(gid, parts.get(gid, ""), points.get(gid, 0.0)) for gid in order}
    for record in records:
        results, ran = {t.grade_id: t for t in record.tests}, not never_ran(record)
        for gid in order:
            stats[gid].add(record.student_id, results.get(gid), ran)
    for record in records:
        for t in record.tests:  # a test's points as the records hold them (an override may change them)
            if t.grade_id in stats:
                stats[t.grade_id].max_points = t.max_points
    return list(stats.values())


def score_bins(scores, max_score):
    """[(label, count)]: bars of width w (1, or more when the maximum is over 20) from 0 to max_score; a bar
    labelled k holds the scores from k up to (not including) k + w, the last one also the maximum."""
    width = max(1, math.ceil(max_score / 20))
    count = int(max_score // width) + 1
    bins = [0] * count
    for score in scores:
        bins[min(count - 1, max(0, int(score // width)))] += 1
    return [(f"{k * width:g}", n) for k, n in enumerate(bins)]


def _count(n, noun):
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _short_number(value):
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _scores_section(records):
    scores = [r.score for r in records]
    max_score = max(r.max_score for r in records)
    full = sum(r.score >= r.max_score for r in records)
    cards = [
        ("submissions", str(len(records))),
        ("mean", f"{statistics.fmean(scores):.2f}"),
        ("median", _short_number(statistics.median(scores))),
        ("full marks", str(full)),
        ("out of", f"{max_score:g}"),
    ]
    card_html = "".join(f"<div class=card data-stat='{html.escape(name)}'><b>{value}</b>{name}</div>" for name, value in cards)
    bins = score_bins(scores, max_score)
    figure = histogram_svg(bins, "score distribution")
    width = bins[1][0] if len(bins) > 1 else "1"
    caption = (
        f"Submissions per score: the bar labelled k counts the scores from k up to, not including, k + {width} "
        f"(the last bar holds {max_score:g})."
    )
    counts = Counter(r.status for r in records)
    statuses = table(["status", "submissions"], [[html.escape(s), str(n)] for s, n in counts.most_common()], numeric=(1,))
    return (
        f"<h2>Scores</h2><div class=cards>{card_html}</div><figure>{figure}<figcaption>{html.escape(caption)}</figcaption></figure>"
        f"<h3>Status</h3>{statuses}<p class=note>Any status but <code>ok</code> deserves a look, and so does a message that says "
        "“for review” (grades.csv's message column).</p>"
    )


def _tests_section(stats):
    rows = [
        [
            html.escape(s.part),
            f"<code>{html.escape(s.grade_id)}</code>",
            f"{s.max_points:g}",
            str(s.passed),
            f"{100 * s.passed / s.total:.0f}%" if s.total else "",
            f"<span class=fail>{s.visible}</span>" if s.visible else "0",
            f"<span class=hidden>{s.hidden}</span>" if s.hidden else "0",
            str(s.not_run),
        ]
        for s in stats
    ]
    header = ["part", "test", "points", "passed", "share", "failed a visible check", "failed only a hidden check", "not run"]
    segments = [(s.grade_id, {"passed": s.passed, "visible": s.visible, "hidden": s.hidden, "notrun": s.not_run}) for s in stats]
    names = [("passed", "passed (full points)"), ("visible", "failed a visible check"), ("hidden", "failed only a hidden check")]
    legend = legend_html([*names, ("notrun", "not run")])
    return (
        "<h2>Tests</h2><p class=lead>Per test cell, in the notebook's order. A test passes with its full points. A visible check "
        "is one the student could run before submitting (Validate): a failure there, they could have seen; a failure of the hidden "
        "checks alone is what the visible tests did not show. “Failed a visible check” also counts a notebook that stopped "
        "before the test; “not run” counts the submissions that could not be run at all (a broken file).</p>"
        f"{table(header, rows, numeric=(2, 3, 4, 5, 6, 7))}<figure>{stacked_bars_svg(segments, 'tests')}{legend}</figure>"
    )


def _written_section(assignment, records):
    """The answers a person grades (not tests: no visible or hidden check), each with how many are graded and how
    many await a person in formgrader, and the mean score of those graded."""
    if not assignment.manual:
        return ""
    rows = []
    for answer in assignment.manual:
        results = [t for r in records if r.status not in UNREAD for t in r.tests if t.manual and t.grade_id == answer.grade_id]
        graded = [t.points for t in results if not is_awaiting(t)]
        mean = f"{statistics.mean(graded):.2f}" if graded else ""
        name = f"<code>{html.escape(answer.grade_id)}</code>"
        rows.append([name, f"{answer.points:g}", str(len(graded)), str(len(results) - len(graded)), mean])
    return (
        "<h2>Written answers</h2><p class=lead>Graded by hand in nbgrader's formgrader; <code>python -m autograder report OUT</code> "
        "brings the scores here, into grades.csv and the feedback. A submission that was never run has no answer to grade.</p>"
        + table(["answer", "points", "graded", "awaiting a person", "mean score"], rows, numeric=(1, 2, 3, 4))
    )


def _group_row(group, members, links):
    """A row of the failures table: count, the first student's message (and the group's pattern when they vary), students."""
    messages = {message for _, message in members}
    shown = html.escape(members[0][1] or "(no message)")
    if len(messages) > 1:
        shown += f"<div class=note>{len(messages)} variants of <code>{html.escape(group)}</code></div>"
    ids = [student_id for student_id, _ in members]
    more = f" and {len(ids) - IDS_SHOWN} more" if len(ids) > IDS_SHOWN else ""
    return [str(len(members)), shown, ", ".join(links.student(i) for i in ids[:IDS_SHOWN]) + more]


def _failures_section(stats, links):
    parts = ["<h2>Common failures</h2><p class=lead>Per test, the failure messages grouped: messages that differ only in their "
             "numbers, shapes, lists and quoted names are one group (its pattern shows them masked: N, (…), […], '…'). Each group "
             "with its count and up to three students, linked to their feedback.</p>"]  # fmt: skip
    for s in stats:
        if not s.failures:
            continue
        groups = s.groups()
        more = groups[GROUPS_SHOWN:]
        others = f"and {_count(len(more), 'other message')} ({_count(sum(len(m) for _, m in more), 'failure')})"
        extra = f"<p class=note>{others}</p>" if more else ""
        listing = table(["count", "message", "students"], [_group_row(g, m, links) for g, m in groups[:GROUPS_SHOWN]], (0,), full=True)
        parts.append(f"<h3><code>{html.escape(s.grade_id)}</code>: {len(s.failures)} failed</h3>{listing}{extra}")
    if len(parts) == 1:
        parts.append("<p>No test failed in a submission that ran.</p>")
    not_run = max((s.not_run for s in stats), default=0)
    if not_run:
        parts.append(f"<p class=note>{_count(not_run, 'submission')} could not be run at all: the reason is in the status table "
                     "and in grades.csv, and is not repeated here.</p>")  # fmt: skip
    return "".join(parts)


def time_summary(records):
    """(median, 90th percentile, the slowest records) of the grading time per submission, in seconds."""
    seconds = sorted(r.seconds for r in records)
    p90 = statistics.quantiles(seconds, n=10, method="inclusive")[8] if len(seconds) > 1 else seconds[0]
    return statistics.median(seconds), p90, sorted(records, key=lambda r: (-r.seconds, r.student_id))[:SLOWEST]


def _time_section(records, links):
    median, p90, slowest = time_summary(records)
    rows = [[links.student(r.student_id), f"{r.seconds:.1f}", html.escape(r.status)] for r in slowest]
    isolation = "<br>".join(html.escape(line) for line in isolation_summary(records).splitlines())
    return (
        f"<h2>Time and isolation</h2><p>Grading time per submission: median <b>{median:.1f} s</b>, 90th percentile "
        f"<b>{p90:.1f} s</b>. The slowest:</p>{table(['student', 'seconds', 'status'], rows, (1,))}<p class=note>{isolation}</p>"
    )


def leaderboard_top(assignment, records, top=TOP):
    """[(student_id, value)] of the best `top` numbers posted to the master's leaderboard (none when it declares none)."""
    spec = assignment.leaderboard
    if not spec:
        return []
    posted = [(r.student_id, m.value) for r in records for m in r.leaderboard if m.name == spec["name"]]
    sign = -1 if spec.get("order", "asc") == "desc" else 1
    return sorted(posted, key=lambda item: (sign * item[1], item[0]))[:top]


def _leaderboard_section(assignment, records, links):
    if not assignment.leaderboard:
        return ""
    best = leaderboard_top(assignment, records)
    rows = [[str(i), links.student(s), f"{v:.4g}"] for i, (s, v) in enumerate(best, 1)]
    listing = (
        table(["rank", "student", html.escape(assignment.leaderboard["name"])], rows, (0, 2))
        if rows
        else "<p>No submission posted a number.</p>"
    )
    note = "<p class=note>Printed by the student's own kernel: for the leaderboard, never for a grade.</p>"
    return f"<h2>Leaderboard: top {TOP}</h2>{listing}{note}"


def report_html(assignment, records, links=None):
    """The class report of the assignment's records (a list of Record) as one self-contained HTML page (links: where a
    student id links to, html_page.Links; default their feedback in OUT)."""
    links = links or Links.of(assignment)
    title = f"{assignment.title}: class report"
    head = (
        f"<h1>{html.escape(title)}</h1><p class=lead>{len(records)} submissions of <code>{html.escape(assignment.name)}</code>. "
        "The numbers are grades.csv's.</p>"
    )
    if not records:
        return page(title, head + "<p>No submission has been graded.</p>")
    stats = cell_stats(assignment, records)
    sections = [
        _scores_section(records),
        _tests_section(stats),
        _failures_section(stats, links),
        _written_section(assignment, records),
        _time_section(records, links),
        _leaderboard_section(assignment, records, links),
    ]
    return page(title, head + "".join(sections))
