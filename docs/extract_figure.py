"""The README's figure, taken from the executed solution notebook: the learned density beside the exact one.

    python docs/extract_figure.py      # writes docs/images/learned-vs-exact-density.png

It copies the PNG output of the solution's cell that draws the two densities side by side (found by the title it
gives the learned one, not by its position), byte for byte: run it again after `python -m autograder build`
re-executes the solutions. Standard library only.
"""

import base64
import json
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
NOTEBOOK = DOCS.parent / "solutions" / "realnvp.ipynb"
TARGET = DOCS / "images" / "learned-vs-exact-density.png"
MARKER = 'f"learned density: held-out NLL'  # in the source of the cell that draws the figure


def figure_png(notebook=NOTEBOOK, marker=MARKER):
    """The PNG bytes of the one image output of the code cell whose source contains marker."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    found = [c for c in cells if c["cell_type"] == "code" and marker in "".join(c["source"])]
    if len(found) != 1:
        sys.exit(f"expected one cell of {notebook} containing {marker!r}, found {len(found)}")
    images = [o["data"]["image/png"] for o in found[0].get("outputs", []) if "image/png" in o.get("data", {})]
    if len(images) != 1:
        sys.exit(f"expected one PNG output in that cell, found {len(images)}: is {notebook.name} executed?")
    png = images[0]
    return base64.b64decode("".join(png) if isinstance(png, list) else png)


def main():
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(figure_png())
    print(f"wrote {TARGET.relative_to(DOCS.parent)} ({TARGET.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
