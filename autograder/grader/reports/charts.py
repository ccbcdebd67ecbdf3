"""Small inline SVG figures for the class pages: no plotting library, no image files, crisp at any zoom.

Every bar carries its number in data-count (and a tooltip), so that a test or a script reads back what is drawn.
"""

import html

COLOURS = {"passed": "#3a9a54", "visible": "#c8463d", "hidden": "#e0962b", "notrun": "#b8b8b8", "bar": "#4a78b5"}
FONT = "font-family='system-ui,sans-serif' font-size='11' fill='#333'"


def _svg(width, height, label, parts):
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' role=img aria-label='{html.escape(label)}' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}'>" + "".join(parts) + "</svg>"
    )


def histogram_svg(bars, label, bar_width=34, height=170):
    """A vertical bar chart: bars is [(x label, count)], drawn left to right with the count above each bar."""
    top = max((count for _, count in bars), default=0) or 1
    plot, left, bottom = height - 40, 8, height - 22
    parts = [f"<line x1='{left}' y1='{bottom}' x2='{left + len(bars) * bar_width}' y2='{bottom}' stroke='#999'/>"]
    for i, (name, count) in enumerate(bars):
        x, h = left + i * bar_width, round(plot * count / top, 1)
        tip = html.escape(f"{name}: {count}")
        parts.append(
            f"<rect class=bar data-bin='{html.escape(str(name))}' data-count='{count}' x='{x + 3}' y='{bottom - h}' "
            f"width='{bar_width - 6}' height='{h}' fill='{COLOURS['bar']}'><title>{tip}</title></rect>"
        )
        if count:
            parts.append(f"<text x='{x + bar_width / 2}' y='{bottom - h - 4}' text-anchor='middle' {FONT}>{count}</text>")
        parts.append(f"<text x='{x + bar_width / 2}' y='{bottom + 14}' text-anchor='middle' {FONT}>{html.escape(str(name))}</text>")
    return _svg(left * 2 + len(bars) * bar_width, height, label, parts)


def stacked_bars_svg(rows, label, segments=("passed", "visible", "hidden", "notrun"), width=360, row_height=20, label_width=190):
    """Horizontal bars, one per row: rows is [(row label, {segment: count})], each bar as long as its total."""
    total = max((sum(counts.values()) for _, counts in rows), default=0) or 1
    parts = []
    for i, (name, counts) in enumerate(rows):
        y, x = i * row_height, label_width
        parts.append(f"<text x='{label_width - 6}' y='{y + row_height * 0.68}' text-anchor='end' {FONT}>{html.escape(name)}</text>")
        for segment in segments:
            count = counts.get(segment, 0)
            w = round(width * count / total, 1)
            parts.append(
                f"<rect class='seg {segment}' data-row='{html.escape(name)}' data-count='{count}' x='{x}' y='{y + 3}' width='{w}' "
                f"height='{row_height - 6}' fill='{COLOURS[segment]}'><title>{html.escape(f'{name}: {count} {segment}')}</title></rect>"
            )
            x += w
    return _svg(label_width + width + 10, len(rows) * row_height + 4, label, parts)


def legend_html(names):
    """A one-line legend: names is [(segment, text)], each after a square of the segment's colour."""
    items = (
        f"<span style='white-space:nowrap;margin-right:1.2em'><span style='display:inline-block;width:.8em;height:.8em;"
        f"background:{COLOURS[segment]};margin-right:.35em'></span>{html.escape(text)}</span>"
        for segment, text in names
    )
    return "<div class=note>" + "".join(items) + "</div>"
