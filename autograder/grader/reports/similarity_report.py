"""OUT/similarity.csv and OUT/similarity.html, from what each student wrote (OUT/code/<student>.json) alone.

The grading worker writes OUT/code/<student>.json before the record ({"student_id", "answers": {grade_id:
source}, "extras": [source]}), merge copies it like the feedback, and `python -m autograder similarity OUT`
(or any `grade`, `merge` or `report` without --no-similarity) compares the class (similarity.py). The page
lists the pairs above the threshold, each student's closest other submission, and the flagged pairs side by
side with the lines they share marked. It is a flag for a person to review, never a change to a grade.
"""

import html
import json
from pathlib import Path

from autograder.grader.core.files import write_atomic
from autograder.grader.core.files import write_csv as write_csv_rows
from autograder.grader.core.ids import printable
from autograder.grader.core.layout import code_path, links_prefix
from autograder.grader.reports.charts import histogram_svg
from autograder.grader.reports.html_page import Links, page, table
from autograder.grader.reports.similarity import (
    MIN_SHARED,
    THRESHOLD,
    Code,
    K,
    W,
    compare,
    most_similar_first,
    rarity_limit,
    starter_hashes,
    starter_sources,
)

SIDE_BY_SIDE = 40  # flagged pairs shown in full; the table lists them all
MAX_LINES = 200
COLUMNS = ["student_a", "student_b", "score", "shared", "answers"]
STYLE = (
    ".sbs{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1em}.sbs h4{margin:.6em 0 .2em;font-size:.95em}"
    ".sbs pre{background:#f7f7f7;border:1px solid #e6e6e6;padding:.4em .6em;margin:0;white-space:pre-wrap;font-size:11.5px}"
    ".sbs mark{background:#ffe08a;display:inline-block;min-width:100%}.pair{margin-top:1.5em}"
)


def code_json(student_id, answers, extras):
    """The text of OUT/code/<student>.json: what the student wrote (answers: grade_id -> source, extras: the sources
    of the cells they added)."""
    return json.dumps({"student_id": student_id, "answers": answers, "extras": list(extras)}, ensure_ascii=False, indent=1)


def read_codes(out, records):
    """([Code] of every record with a readable code file, {student_id: why not compared})."""
    codes, missing = [], {}
    for record in records:
        path = code_path(out, record.student_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            answers, extras = data["answers"], data["extras"]
            if not isinstance(answers, dict) or not isinstance(extras, list):
                raise ValueError("answers is not a mapping or extras not a list")
            codes.append(Code.of(record.student_id, {str(k): str(v) for k, v in answers.items()}, [str(e) for e in extras]))
        except FileNotFoundError:
            missing[record.student_id] = "nothing to compare: " + (
                record.status if record.status != "ok" else "no code file (graded by an older grader)"
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            missing[record.student_id] = f"its code file cannot be read ({type(error).__name__}: {error})"
    return codes, missing


def answers_text(pair):
    """The answer cells the pair shares code in, with the share of each: "coupling 85%; realnvp 12%"."""
    cells = sorted(pair.cells.items(), key=lambda item: (-item[1][1], item[0]))
    return "; ".join(f"{label} {100 * share:.0f}%" for label, (share, _) in cells)


def write_similarity_csv(path, comparison):
    """similarity.csv: the flagged pairs and each student's closest match, the most similar first."""
    pairs = {(p.a, p.b): p for p in comparison.flagged()}
    pairs.update({(p.a, p.b): p for p in comparison.closest().values() if p is not None})
    rows = sorted(pairs.values(), key=most_similar_first)
    write_csv_rows(path, [COLUMNS, *([p.a, p.b, f"{p.score:.3f}", p.shared, answers_text(p)] for p in rows)])


def _marked_lines(code, prints):
    """cell index -> set of line numbers that the fingerprints in prints cover in code."""
    lines = {}
    for h in prints:
        for index, first, last in code.prints.get(h, ()):
            lines.setdefault(index, set()).update(range(first, last + 1))
    return lines


def _code_column(code, prints, links):
    marked, parts = _marked_lines(code, prints), [f"<h3>{links.student(code.student_id)}</h3>"]
    for index, (label, source) in enumerate(code.cells):
        lines = source.splitlines()[:MAX_LINES]
        rendered = "".join(
            f"<mark>{html.escape(line) or ' '}</mark>\n" if number in marked.get(index, ()) else html.escape(line) + "\n"
            for number, line in enumerate(lines, 1)
        )
        parts.append(f"<h4><code>{html.escape(label)}</code></h4><pre>{rendered}</pre>")
    return "<div>" + "".join(parts) + "</div>"


def _side_by_side(comparison, flagged, links):
    shown = []
    for i, pair in enumerate(flagged[:SIDE_BY_SIDE], 1):
        a, b = comparison.codes[pair.a], comparison.codes[pair.b]
        names = f"{html.escape(printable(pair.a))} and {html.escape(printable(pair.b))}"
        head = f"<h3 id=pair-{i}>Pair {i}: {names}, {100 * pair.score:.0f}% ({pair.shared} shared)</h3>"
        shown.append(
            f"<div class=pair>{head}<div class=sbs>{_code_column(a, pair.prints, links)}{_code_column(b, pair.prints, links)}</div></div>"
        )
    more = len(flagged) - SIDE_BY_SIDE
    return "".join(shown) + (f"<p class=note>{more} more flagged pairs are listed above, not shown side by side.</p>" if more > 0 else "")


def _closest_figure(closest):
    """A histogram of each student's closest-match score in tenths, with the threshold in the caption."""
    bins = [0] * 10
    for pair in closest.values():
        bins[min(9, int(10 * (pair.score if pair else 0.0)))] += 1
    figure = histogram_svg([(f"{10 * i}%", n) for i, n in enumerate(bins)], "closest-match scores", bar_width=44)
    caption = (
        "Students per closest-match score (the bar labelled k% holds scores from k% up to k + 10%); pairs at "
        f"{100 * THRESHOLD:.0f}% or more with at least {MIN_SHARED} shared fingerprints are flagged."
    )
    return f"<figure>{figure}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _pairs_table(comparison, flagged, links):
    rows = []
    for i, p in enumerate(flagged, 1):
        cells = html.escape(answers_text(p))
        link = f"<a href='#pair-{i}'>side by side</a>" if i <= SIDE_BY_SIDE else ""
        rows.append([str(i), links.student(p.a), links.student(p.b), f"{100 * p.score:.0f}%", str(p.shared), cells, link])
    return (
        table(["#", "student", "student", "score", "shared", "in cells", ""], rows, (0, 3, 4))
        if rows
        else "<p>No pair is above the threshold.</p>"
    )


def _closest_table(comparison, closest, missing, links):
    ranked = sorted(closest.items(), key=lambda item: (most_similar_first(item[1]) if item[1] else (True, 0, 0, "", ""), item[0]))
    rows = []
    for student, pair in ranked:
        other = (pair.b if pair.a == student else pair.a) if pair else None
        score = f"{100 * pair.score:.0f}%" if pair else "0%"
        rows.append(
            [
                links.student(student),
                links.student(other) if other else "none",
                score,
                str(pair.shared if pair else 0),
                str(len(comparison.counted[student])),
            ]
        )
    rows += [[links.student(s), html.escape(why), "", "", ""] for s, why in sorted(missing.items())]
    return table(["student", "closest other submission", "score", "shared", "rare fingerprints"], rows, (2, 3, 4))


def _method(n, starter_count):
    """What the page compared and how, in a sentence or two."""
    return (
        "<p class=lead>What each student wrote (answer cells and added cells) compared with every other submission. A flag "
        "is for a person to review: similar code can have innocent causes, and no grade changes.</p><p class=note>Tokens normalised "
        f"(identifiers and literals masked, comments dropped); fingerprints of {K}-token runs, winnowed in windows of {W} (any shared "
        f"run of {K + W - 1} tokens is seen); the {starter_count} k-grams of the starter code never count, nor a fingerprint held by "
        f"more than {rarity_limit(n)} submissions. Score: the shared fingerprints over the rare fingerprints of the smaller side, "
        f"in the whole submission or in one answer cell (one that shares at least {MIN_SHARED}), whichever is larger; a pair is "
        f"flagged at {100 * THRESHOLD:.0f}% with at least {MIN_SHARED} fingerprints shared.</p>"
    )


def similarity_html(assignment, comparison, missing, starter_count, links=None):
    """The similarity page of a compared class (missing: student_id -> why not compared; links: html_page.Links)."""
    links = links or Links.of(assignment)
    flagged, closest = comparison.flagged(), comparison.closest()
    title, n = f"{assignment.title}: similarity", len(comparison.codes)
    in_flagged = len({s for p in flagged for s in (p.a, p.b)})
    cards = [("compared", n), ("pairs flagged", len(flagged)), ("students in them", in_flagged), ("not compared", len(missing))]
    body = [
        f"<h1>{html.escape(title)}</h1>{_method(n, starter_count)}<div class=cards>",
        "".join(f"<div class=card><b>{v}</b>{html.escape(k)}</div>" for k, v in cards) + "</div>",
        f"<h2>Pairs above the threshold</h2>{_pairs_table(comparison, flagged, links)}",
        f"<h2>Closest match per student</h2>{_closest_figure(closest)}{_closest_table(comparison, closest, missing, links)}",
        f"<h2>Side by side</h2>{_side_by_side(comparison, flagged, links)}" if flagged else "",
    ]
    return page(title, "".join(body), STYLE)


def write_similarity(out, assignment, records):
    """Compare the class of records from OUT/code and write similarity.csv and similarity.html; returns their paths."""
    out = Path(out)
    codes, missing = read_codes(out, records)
    starter = starter_hashes(starter_sources(assignment))
    comparison = compare(codes, starter)
    write_similarity_csv(out / "similarity.csv", comparison)
    links = Links.of(assignment, links_prefix(out))
    write_atomic(out / "similarity.html", similarity_html(assignment, comparison, missing, len(starter), links))
    return [out / "similarity.csv", out / "similarity.html"]
