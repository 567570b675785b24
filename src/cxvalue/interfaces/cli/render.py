"""Terminal rendering with Rich: views (KPIs, tables, chart data), frames, JSON, warnings."""
from __future__ import annotations

import json
import os
import sys

from rich.console import Console
from rich.table import Table as RichTable

class _LazyConsole:
    """A Rich console made on first use, anew after :func:`reset_consoles` (so that each CLI
    call — also in-process, in tests — picks up the current terminal width and streams)."""

    def __init__(self, **kwargs):
        self._kwargs, self._console = kwargs, None

    def reset(self) -> None:
        self._console = None

    #: width when the output is not a terminal (a file, a pipe): Rich would wrap at 80 columns and
    #: cut numbers to "1.843…"; $COLUMNS still wins
    PIPE_WIDTH = 200

    def get(self) -> Console:
        if self._console is None:
            kwargs = dict(self._kwargs)
            stream = sys.stderr if kwargs.get("stderr") else sys.stdout
            if "COLUMNS" not in os.environ and not (hasattr(stream, "isatty") and stream.isatty()):
                kwargs.setdefault("width", self.PIPE_WIDTH)
            self._console = Console(**kwargs)
        return self._console

    def __getattr__(self, name):
        return getattr(self.get(), name)


console = _LazyConsole()
err_console = _LazyConsole(stderr=True)


def reset_consoles() -> None:
    console.reset()
    err_console.reset()


def print_json(obj) -> None:
    """Machine-readable output: JSON on stdout (frames as records, NaN as null)."""
    from ..views import _clean
    import pandas as pd
    if isinstance(obj, pd.DataFrame):
        # 15 significant digits (pandas' default of 10 decimals printed a p-value of 1.4e-12 as 0.0)
        obj = json.loads(obj.to_json(orient="records", force_ascii=False, date_format="iso", double_precision=15))
    sys.stdout.write(json.dumps(_clean(obj), ensure_ascii=False, default=str, indent=2) + "\n")


def print_frame(df, title: str | None = None, *, max_rows: int = 30, floatfmt: str = "{:,.4g}"):
    """Render a DataFrame as a Rich table (the first ``max_rows`` rows)."""
    tb = RichTable(title=title)
    cols = list(df.columns)
    for c in cols:
        tb.add_column(str(c), justify="right" if str(df[c].dtype).startswith(("int", "float")) else "left")
    for row in df.head(max_rows).itertuples(index=False):
        tb.add_row(*[(floatfmt.format(v) if isinstance(v, float) else str(v)) for v in row])
    console.print(tb)
    if len(df) > max_rows:
        console.print(f"[dim]… {len(df) - max_rows:,} more rows (use --json for all)")


def print_view(view, lang: str = "en", *, max_rows: int = 30, charts: bool = False) -> None:
    """A view in the terminal: KPIs on a line, tables as Rich tables, texts; chart data only
    with ``charts`` (their numbers are in the tables or ``--json``)."""
    from ..views import Chart, Kpis, Table, Text, fmt
    from ...i18n import t
    console.print(f"[bold]{view.title}[/]" + (f"  [dim]({t('as_of_note', lang, as_of=view.as_of)})[/]"
                                               if view.as_of else ""))
    for w in view.warnings:
        warn(w.category, w.text(lang), lang)
    for s in view.skipped:
        warn("skipped", t("step_skipped", lang, step=s["step"], reason=s["reason"]), lang)
    seen = {(w.category, w.message) for w in view.warnings}
    for b in view.blocks:
        for w in b.warnings:
            if (w.category, w.message) not in seen:
                seen.add((w.category, w.message))
                warn(w.category, w.text(lang), lang)
        if isinstance(b, Kpis):
            console.print("  ".join(f"{k.label}: [bold]{fmt(k.value, k.format, lang=lang, unit=k.unit)}[/]"
                                    for k in b.items), highlight=False)
        elif isinstance(b, Table):
            tb = RichTable(title=b.title or None)
            for c in b.columns:
                tb.add_column(c.label or c.key, justify="left" if c.format in ("text", "date") else "right")
            for r in b.rows[:max_rows]:
                tb.add_row(*[fmt(r.get(c.key), c.format, lang=lang) for c in b.columns])
            console.print(tb)
            if len(b.rows) > max_rows:
                console.print(f"[dim]… {len(b.rows) - max_rows:,} more rows (use --json for all)")
            if b.note:
                console.print(f"[dim]{b.note}", highlight=False)
        elif isinstance(b, Text) and b.tone != "muted":
            console.print(("[yellow]" if b.tone == "warn" else "") + b.text, highlight=False)
        elif isinstance(b, Chart) and charts:
            console.print(f"[dim]{b.title}: {json.dumps(b.data, ensure_ascii=False)[:200]}")


def show(view, sess, as_json: bool, *, as_of=None) -> None:
    """Print ``view`` as tables, or its JSON with ``as_json``; ``as_of`` dates a view that has no date yet."""
    if as_of is not None and view.as_of is None:
        view.as_of = str(as_of)
    if as_json:
        print_json(view.to_dict())
    else:
        print_view(view, sess.lang)


def warn(category: str, message: str, lang: str = "en") -> None:
    from ...i18n import t
    err_console.print(f"[yellow]{t('cli_warning', lang)} ({category}):[/] {message}", highlight=False, soft_wrap=True)


def show_warning(message, category, filename, lineno, file=None, line=None):
    """``warnings.showwarning`` of the CLI: typed cxvalue warnings on stderr, one line each."""
    from ...errors import CxValueWarning
    if issubclass(category, CxValueWarning):
        warn(category.__name__, str(message))
