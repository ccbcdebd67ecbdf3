"""What grade, merge and report print at the end: the class in a table, the isolation the kernels had."""

from collections import Counter

from autograder.grader.core.ids import printable


def _term_summary(records):
    """Counts of what deadlines and overrides did, when they did anything."""
    late = [r for r in records if r.late]
    counts = {
        "late": len(late),
        "late, penalised": sum(1 for r in late if r.late_penalty),
        "overridden": sum(1 for r in records if r.overrides),
        "no time (review)": sum(1 for r in records if any("no submission time" in n for n in r.term_notes)),
    }
    shown = [f"{label:<16} {count:>5}" for label, count in counts.items() if count]
    return ["", *shown] if shown else []


def summary(records, slowest=5):
    """The table printed at the end of a batch."""
    counts = Counter(r.status for r in records)
    mean = sum(r.score for r in records) / len(records) if records else 0.0
    max_score = records[0].max_score if records else 0.0
    lines = [f"{len(records)} submissions graded, mean score {mean:.2f} / {max_score:g}", "", f"{'status':<16} count"]
    lines += [f"{status:<16} {count:>5}" for status, count in counts.most_common()]
    lines += _term_summary(records)
    lines += ["", "slowest submissions:"]
    for r in sorted(records, key=lambda r: -r.seconds)[:slowest]:
        lines.append(f"  {r.seconds:7.1f} s  {printable(r.student_id)}  ({r.status}, {r.score:g})")
    return "\n".join(lines)


def isolation_summary(records):
    """The isolation each record was graded under, with counts (a resumed run may mix levels)."""
    counts = {}
    for record in records:
        level = record.isolation or "unknown (graded by an older grader)"
        counts[level] = counts.get(level, 0) + 1
    return "\n".join(f"isolation: {level}" + (f" ({n} submissions)" if len(counts) > 1 else "") for level, n in counts.items())
