"""What every page of figures shares: a headless pyplot, PNG files, inline images, tables, CSS.

Matplotlib is imported on first use, so commands that draw nothing never load it.

Examples
--------
>>> print(html_table([["team", "calls"], ["CR-1", "12"]]))
<table><thead><tr><th>team</th><th>calls</th></tr></thead><tbody><tr><td>CR-1</td><td>12</td></tr></tbody></table>
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

#: The report pages' style sheet (one column, tables with numbers to the right).
PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 64rem; color: #1d1d1d; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.meets td { background: #eef6ee; } tr.answer td { background: #d6ecd6; font-weight: 600; }
.answer-box { background: #f4f7fa; border-left: 4px solid #1f5f8b; padding: 0.6rem 1rem;
              white-space: pre-wrap; }
.note { color: #6a6a6a; font-size: 0.85rem; }
figure { margin: 1.2rem 0; } img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.85rem; }
"""


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, path: Path) -> Path:
    """Write ``fig`` to ``path`` (PNG, 110 dpi, no software tag so reruns are byte-identical)
    and close it."""
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    pyplot().close(fig)
    return path


def data_uri(path: Path) -> str:
    """A PNG file as a ``data:`` URI, for a page that needs no file beside it."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def html_table(rows: list[list[str]], classes: list[str] | None = None) -> str:
    """An HTML table: the first row is the header; ``classes`` (one per body row) style rows."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = []
    for i, row in enumerate(rows[1:]):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        cells = "".join(f"<td>{html.escape(c)}</td>" for c in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure_html(title: str, path: Path, caption: str) -> str:
    """A titled, captioned figure with its PNG inline."""
    return (
        f"<h2>{html.escape(title)}</h2><figure><img alt='{html.escape(title)}' "
        f"src='{data_uri(path)}'><figcaption>{html.escape(caption)} "
        f"({html.escape(path.name)})</figcaption></figure>"
    )
