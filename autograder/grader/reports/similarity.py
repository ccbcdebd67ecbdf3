"""Which submissions look copied: k-gram winnowing (Schleimer, Wilkerson and Aiken 2003, as MOSS does it) over
what each student wrote, with the course's own code subtracted and code that many students share ignored.

A student's code is their answer cells and the cells they added (OUT/code/<student>.json). Each cell is
normalised to Python tokens with every identifier and literal masked and comments and blank lines dropped, so
renaming variables, reformatting or commenting changes nothing. Its k-grams of tokens are hashed and winnowed:
the smallest hash of every window of W consecutive hashes is kept, so any run of K + W - 1 tokens that two
cells share gives them a fingerprint in common. A fingerprint counts only when it is rare across the class
(held by few submissions: code that many write the same way proves nothing) and never when it is in the
starter code (the released notebook's given cells, visible tests and answer templates). Two submissions are
compared by the rare fingerprints they share, over those of the smaller one, in the whole submission and in each
answer cell (one copied answer among honest ones is the common case). It flags pairs for review and never
changes a grade.
"""

import io
import keyword
import math
import tokenize
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from autograder.notebooks import BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION, is_answer, without_region

K, W = 10, 6  # tokens per k-gram, k-grams per window: any shared run of 15 tokens (about two lines) is seen
MOSS_RARITY = 10  # MOSS's default -m: a passage held by more submissions than this is ignored
RARE_SHARE = 0.1  # ... and, in a class of fewer than 100, by more than a tenth of it (at least 3)
THRESHOLD, MIN_SHARED = 0.6, 15  # a pair is flagged at this score with this many fingerprints shared (measured: docs/instructors.md)
NBGRADER_TEMPLATE = ("# YOUR CODE HERE", "raise NotImplementedError()")  # what nbgrader puts in place of a solution
_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER, tokenize.ERRORTOKEN}
_MASKED = {tokenize.NUMBER: "N", tokenize.STRING: "S", tokenize.NEWLINE: ";", tokenize.INDENT: "{", tokenize.DEDENT: "}"}


def _tokens_of(source, partial=False):
    """[(token, line)] of source. Raises tokenize.TokenError or SyntaxError when it is not whole Python, unless
    partial: then the tokens read before the error."""
    found = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in _SKIPPED:
                continue
            if tok.type == tokenize.NAME:
                found.append(("V" if not keyword.iskeyword(tok.string) else tok.string, tok.start[0]))
            else:
                found.append((_MASKED.get(tok.type, tok.string), tok.start[0]))
    except (tokenize.TokenError, SyntaxError):
        if not partial:
            raise
    return found


def normalise(source):
    """[(token, line number)] of a cell: identifiers V, numbers N, strings S, newlines ;, indents { }; keywords and
    operators as written; comments, blank lines and IPython's %magic and !shell lines dropped.

    Code that does not tokenise as a whole (a syntax error, an unfinished bracket) is read line by line, each line
    as far as it goes."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return _tokens_of("\n".join(lines) + "\n")
    except (tokenize.TokenError, SyntaxError):
        return [
            (token, number)
            for number, line in enumerate(lines, 1)
            for token, _ in _tokens_of(line.strip() + "\n", partial=True)
            if token not in "{}"
        ]


_IDS = {}


def _token_id(token):
    """A stable integer per token (the same in every process), so that k-gram hashes are too."""
    if token not in _IDS:
        _IDS[token] = zlib.crc32(token.encode())
    return _IDS[token]


def kgram_hashes(tokens, k=K):
    """[(hash, first line, last line)] of every k-gram of tokens ([(token, line)])."""
    ids = [_token_id(t) for t, _ in tokens]
    return [(hash(tuple(ids[i : i + k])), tokens[i][1], tokens[i + k - 1][1]) for i in range(len(tokens) - k + 1)]


def winnow(hashes, w=W):
    """The indices into hashes ([(hash, ...)]) that winnowing keeps: the minimum of each window of w, the
    rightmost on ties, each kept once (Schleimer, Wilkerson and Aiken 2003, robust winnowing)."""
    if len(hashes) < w:
        return [min(range(len(hashes)), key=lambda i: (hashes[i][0], -i))] if hashes else []
    kept, best = [], -1
    for end in range(w - 1, len(hashes)):
        start = end - w + 1
        if best < start:  # the minimum left the window: find the new one, rightmost first
            best = min(range(start, end + 1), key=lambda i: (hashes[i][0], -i))
            kept.append(best)
        elif hashes[end][0] <= hashes[best][0]:
            best = end
            kept.append(best)
    return kept


@dataclass
class Code:
    """What one student wrote: [(label, source)] per cell (answer grade_ids, then "added cell N"), and its
    fingerprints: hash -> [(cell index, first line, last line)] where it occurs."""

    student_id: str
    cells: list
    prints: dict = field(default_factory=dict)

    @classmethod
    def of(cls, student_id, answers, extras):
        """The Code of answers (grade_id -> source) and extras ([source]), fingerprinted."""
        cells = [(gid, src) for gid, src in answers.items()] + [(f"added cell {i}", src) for i, src in enumerate(extras, 1)]
        code = cls(student_id, cells)
        for index, (_, source) in enumerate(cells):
            hashes = kgram_hashes(normalise(source))
            for i in winnow(hashes):
                h, first, last = hashes[i]
                code.prints.setdefault(h, []).append((index, first, last))
        return code


def released_answer(source):
    """An answer cell as nbgrader releases it: each solution region replaced by its template, at its indentation."""
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() == BEGIN_SOLUTION:
            indent, inside = line[: len(line) - len(line.lstrip())], True
            lines += [f"{indent}{template}" for template in NBGRADER_TEMPLATE]
        elif line.strip() == END_SOLUTION:
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines) + "\n"


def starter_sources(assignment):
    """The code a student is given: the master's code cells as released (answer templates, given cells, visible tests)."""
    code = [cell for cell in assignment.cells if cell.cell_type == "code"]
    return [released_answer(c.source) if is_answer(c) else without_region(c.source, BEGIN_HIDDEN, END_HIDDEN) for c in code]


def starter_hashes(sources):
    """Every k-gram hash of the starter code (all of them, not only the winnowed: none may count)."""
    return {h for source in sources for h, _, _ in kgram_hashes(normalise(source))}


def rarity_limit(n):
    """How many submissions may hold a fingerprint for it to count, in a class of n."""
    return max(3, min(MOSS_RARITY, math.ceil(RARE_SHARE * n)))


@dataclass
class Pair:
    """Two submissions' shared rare fingerprints. whole: shared over the rare fingerprints of the smaller one;
    cells: answer grade_id -> (share, shared) the same way within that answer cell."""

    a: str
    b: str
    shared: int
    whole: float
    cells: dict = field(default_factory=dict)
    prints: set = field(default_factory=set, repr=False)

    @property
    def score(self):
        """The larger of the whole share and the share of any answer cell that shares at least MIN_SHARED."""
        return max([self.whole] + [share for share, n in self.cells.values() if n >= MIN_SHARED])

    @property
    def flagged(self):
        return self.score >= THRESHOLD and self.shared >= MIN_SHARED

    @property
    def rank(self):
        """The order of similarity: a pair that shares enough to judge first, then by score, then by shared."""
        return (self.shared >= MIN_SHARED, self.score, self.shared)


def most_similar_first(pair):
    """A sort key: the most similar pair first (Pair.rank), ties by the students' ids."""
    enough, score, shared = pair.rank
    return (not enough, -score, -shared, pair.a, pair.b)


@dataclass
class Comparison:
    """A class compared: every pair sharing a rare fingerprint, and each student's rare fingerprints."""

    codes: dict  # student_id -> Code
    counted: dict  # student_id -> set of its rare, non-starter fingerprints
    pairs: dict  # (a, b), a < b -> Pair

    def closest(self):
        """student_id -> their closest other submission's Pair (None when they share nothing rare with anyone)."""
        best = dict.fromkeys(self.codes)
        for pair in self.pairs.values():
            for s in (pair.a, pair.b):
                if best[s] is None or pair.rank > best[s].rank:
                    best[s] = pair
        return best

    def flagged(self):
        """The pairs above the threshold, the most similar first."""
        return sorted((p for p in self.pairs.values() if p.flagged), key=most_similar_first)


def _by_answer(code, counted):
    """answer grade_id -> the counted fingerprints in that answer cell of code (cells the student added have no
    counterpart in another submission: they count in the whole share only)."""
    cells = {}
    for h in counted:
        for index, _, _ in code.prints[h]:
            label = code.cells[index][0]
            if not label.startswith("added cell"):
                cells.setdefault(label, set()).add(h)
    return cells


def _cell_shares(prints, cells_a, cells_b):
    """answer grade_id -> (share, shared) of the fingerprints in prints that both submissions hold in that cell."""
    shares = {}
    for label in cells_a.keys() & cells_b.keys():
        n = len(prints & cells_a[label] & cells_b[label])
        if n:
            shares[label] = (n / min(len(cells_a[label]), len(cells_b[label])), n)
    return shares


def compare(codes, starter=frozenset(), limit=None):
    """Compare every pair of codes ([Code]) through an index of rare fingerprints: O(fingerprints), not O(pairs)."""
    by_id = {c.student_id: c for c in codes}
    limit = rarity_limit(len(by_id)) if limit is None else limit
    holders = defaultdict(list)
    for code in by_id.values():
        for h in code.prints:
            if h not in starter:
                holders[h].append(code.student_id)
    counted, shared = {s: set() for s in by_id}, defaultdict(set)
    for h, who in holders.items():
        if len(who) > limit:
            continue
        for s in who:
            counted[s].add(h)
        for a, b in combinations(sorted(who), 2):
            shared[(a, b)].add(h)
    cells = {s: _by_answer(by_id[s], counted[s]) for s in by_id}
    pairs = {}
    for (a, b), hs in shared.items():
        whole = len(hs) / min(len(counted[a]), len(counted[b]))
        pairs[(a, b)] = Pair(a, b, len(hs), whole, _cell_shares(hs, cells[a], cells[b]), hs)
    return Comparison(by_id, counted, pairs)
