"""`flask report ASSESSMENT_ID --out FILE`: one assessment's improvement report, as PDF or HTML."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from webapp import db, tenancy
from webapp.reports import services
from webapp.reports.render import RenderError


@click.command("report")
@click.argument("assessment_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The file to write.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "html"]),
    default=None,
    help="pdf or html (default: from the file name, else pdf).",
)
@click.option("--lang", type=click.Choice(services.LANGS), default="zh", show_default=True)
@click.option("--prepared-by", "prepared_by", default=None, help="The name shown as the report's preparer.")
@with_appcontext
def report(assessment_id: int, out: str, fmt: str | None, lang: str, prepared_by: str | None) -> None:
    """Write the improvement report of one assessment (any firm's: this runs as an operator)."""
    kind = fmt or ("html" if out.lower().endswith((".html", ".htm")) else "pdf")
    started = time.perf_counter()
    with tenancy.bypass():
        inputs = services.load_inputs(assessment_id, preparer=services.Preparer(name=prepared_by))
        if inputs is None:
            click.echo(f"No assessment {assessment_id}.", err=True)
            sys.exit(2)
        try:
            result = services.get_report(inputs, lang, kind)
        except RenderError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        finally:
            db.session.rollback()  # the command only reads
    path = Path(out)
    path.write_bytes(result.content)
    took = time.perf_counter() - started
    source = "from the cache" if result.cached else "rendered"
    click.echo(
        f"Wrote {path} ({len(result.content) / 1024:.0f} KB, {kind}, {lang}; {source} in {took:.2f} s)."
    )
