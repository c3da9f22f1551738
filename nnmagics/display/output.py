"""Show things in whatever front end runs the code: rich HTML/PNG in notebooks, text in a terminal."""
from __future__ import annotations

import io
from typing import Any


def in_notebook() -> bool:
    """True when running in a Jupyter kernel (a front end that renders HTML and widgets)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ not in ("TerminalInteractiveShell", "InteractiveShell")


def show(obj: Any) -> None:
    """Display ``obj`` with IPython's rich display (falls back to print outside IPython)."""
    try:
        from IPython.display import display
    except ImportError:  # pragma: no cover
        print(obj)
        return
    display(obj)


def show_html(html: str, text: str) -> None:
    """Display HTML in a notebook; ``text`` is what a terminal or a plain-text reader gets."""
    from IPython.display import display

    display({"text/html": html, "text/plain": text}, raw=True)


def show_text(text: str) -> None:
    """Display preformatted text."""
    print(text)


def figure_png(fig, dpi: int = 90) -> bytes:
    """Render a matplotlib Figure to PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def show_figure(fig, dpi: int = 90) -> None:
    """Display a matplotlib ``Figure`` as a PNG (works in every notebook and in nbconvert output)."""
    from IPython.display import Image, display

    display(Image(data=figure_png(fig, dpi=dpi), format="png"))


def frame_html(frame, caption: str | None = None, max_rows: int = 60) -> str:
    """A DataFrame as a compact HTML table with an optional caption."""
    import html as _html

    from ..i18n import num

    body = frame.to_html(max_rows=max_rows, border=0, float_format=lambda v: num(v, ".4g"))   # 0,5 in French
    title = f"<div style='font-weight:600;margin:6px 0 2px'>{_html.escape(caption)}</div>" if caption else ""
    return title + body


def show_frame(frame, caption: str | None = None) -> None:
    """Display a DataFrame with a caption (HTML in notebooks, aligned text elsewhere)."""
    text = ((caption + "\n") if caption else "") + frame.to_string()
    show_html(frame_html(frame, caption), text)
