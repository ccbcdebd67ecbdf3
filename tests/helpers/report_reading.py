"""Read the numbers a class report shows back from its HTML, and check them against grades.csv.

The check recomputes everything from grades.csv on its own (the CSV is what instructors upload), so a report
that counted differently from the CSV (or drew a figure that disagrees with its table) fails it.
"""

import csv
import statistics
from html.parser import HTMLParser


class _Page(HTMLParser):
    """The tables (header, rows of cell text), the cards (data-stat -> text) and the bars (data-* of SVG rects)."""

    def __init__(self):
        super().__init__()
        self.tables, self.cards, self.bars, self.segments = [], {}, [], []
        self._cell, self._card, self._row = None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append({"header": [], "rows": []})
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "div" and "data-stat" in attrs:
            self._card, self.cards[attrs["data-stat"]] = attrs["data-stat"], ""
        elif tag == "rect" and "data-bin" in attrs:
            self.bars.append((attrs["data-bin"], int(attrs["data-count"])))
        elif tag == "rect" and "data-row" in attrs:
            self.segments.append((attrs["data-row"], attrs["class"].split()[-1], int(attrs["data-count"])))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            table = self.tables[-1]
            if table["header"]:
                table["rows"].append(self._row)
            else:
                table["header"] = self._row
            self._row = None
        elif tag == "div":
            self._card = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._card is not None and not self.cards[self._card]:
            self.cards[self._card] = data.strip()


def read_report(text):
    """What report.html shows: {"cards", "bars", "segments", "tables": {first header cell: [row dicts]}}."""
    page = _Page()
    page.feed(text)
    tables = {}
    for table in page.tables:
        tables.setdefault(table["header"][0], [dict(zip(table["header"], row)) for row in table["rows"]])
    return {"cards": page.cards, "bars": page.bars, "segments": page.segments, "tables": tables}


def csv_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _bins(labels, scores):
    """Counts of scores per bar: a bar holds the scores from its label up to the next bar's (the last: all above)."""
    starts = [float(label) for label in labels]
    return [sum(lo <= s < (starts[i + 1] if i + 1 < len(starts) else float("inf")) for s in scores) for i, lo in enumerate(starts)]


def report_differences(report_text, grades_csv, assignment):
    """Every number of report.html that differs from what grades.csv says ([] when they agree)."""
    shown, rows = read_report(report_text), csv_rows(grades_csv)
    scores = [float(r["score"]) for r in rows]
    found = []

    def same(what, got, want):
        if got != want:
            found.append(f"{what}: report {got!r}, grades.csv {want!r}")

    cards = shown["cards"]
    same("submissions", int(cards["submissions"]), len(rows))
    same("mean", cards["mean"], f"{statistics.fmean(scores):.2f}")
    same("median", float(cards["median"]), round(statistics.median(scores), 2))
    same("full marks", int(cards["full marks"]), sum(float(r["score"]) >= float(r["max_score"]) for r in rows))
    labels = [label for label, _ in shown["bars"]]
    same("histogram", [count for _, count in shown["bars"]], _bins(labels, scores))
    statuses = {r["status"]: int(r["submissions"]) for r in shown["tables"]["status"]}
    same("status counts", statuses, {s: sum(r["status"] == s for r in rows) for s in {r["status"] for r in rows}})
    tests = {r["test"]: r for r in shown["tables"]["part"]}
    same("tests, in the master's order", list(tests)[: len(assignment.tests)], [gid for gid, _ in assignment.tests])
    for gid, points in assignment.tests:
        passed = sum(float(r[gid]) >= points for r in rows)
        row = tests[gid]
        same(f"{gid} passed", int(row["passed"]), passed)
        failed = int(row["failed a visible check"]) + int(row["failed only a hidden check"]) + int(row["not run"])
        same(f"{gid} failed", failed, len(rows) - passed)
        drawn = {segment: count for name, segment, count in shown["segments"] if name == gid}
        same(f"{gid} figure", drawn.get("passed"), passed)
    return found


def row_differences(expected, got):
    """What differs between two grades.csv (lists of rows): lost, extra or changed rows, and the columns."""
    by_id = lambda rows: {r["student_id"]: r for r in rows}  # noqa: E731
    want, have = by_id(expected), by_id(got)
    found = [f"{s}: lost" for s in want.keys() - have.keys()] + [f"{s}: extra" for s in have.keys() - want.keys()]
    found += [f"{s}: {want[s]} != {have[s]}" for s in want.keys() & have.keys() if want[s] != have[s]]
    found += [f"{len(got)} rows for {len(have)} students: a student counted twice"] if len(got) != len(have) else []
    if expected and got and list(expected[0]) != list(got[0]):
        found.append(f"columns {list(got[0])} != {list(expected[0])}")
    return found
