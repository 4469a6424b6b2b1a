"""`flask frameworks ...`: list, validate, export and release the assessment frameworks.

The work is done by `assessments` (no Flask there); these commands only parse arguments and print.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import NoReturn

import click
from flask.cli import AppGroup

from assessments.export import DEFAULT_AS_OF, export_xlsx, import_xlsx, to_dict, to_yaml
from assessments.loader import (
    FrameworkError,
    FrameworkFile,
    FrameworkNotFound,
    default_root,
    framework_file,
    framework_paths,
    list_frameworks,
    read_file,
)
from assessments.validate import ReleaseError, load_released, release, validate_path

frameworks = AppGroup("frameworks", help="Assessment frameworks: list, validate, export, release.")


def _fail_problems(error: FrameworkError) -> NoReturn:
    for p in error.problems:
        click.echo(str(p))
    raise click.ClickException(f"{len(error.problems)} problem(s)")


@frameworks.command("list")
@click.option(
    "--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Title language."
)
def list_command(lang: str) -> None:
    """Every version of every framework: id, version, status, item count, title."""
    try:
        files = list_frameworks()
    except FrameworkError as exc:
        _fail_problems(exc)
    rows = [("id", "version", "status", "items", "title")]
    rows += [(f.id, f.version, f.status, str(f.item_count), f.title.get(lang)) for f in files]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for n, row in enumerate(rows):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
        if n == 0:
            click.echo("  ".join("-" * w for w in widths) + "  " + "-" * 5)


@frameworks.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def validate_command(path: Path | None) -> None:
    """Check the framework files (default: all of them); exit status 1 when anything is wrong."""
    problems = validate_path(path)
    if problems:
        for p in problems:
            click.echo(str(p))
        raise click.ClickException(f"{len(problems)} problem(s)")
    target = path if path is not None else default_root()
    files = framework_paths(target) if target.is_dir() else [target]
    items = sum(read_file(f).item_count for f in files)
    click.echo(f"OK: {len(files)} framework file(s), {items} items, no problems")


@frameworks.command("export")
@click.argument("framework_id")
@click.option("--version", "version", default=None, help="Default: the latest published version.")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help=f"Date the date items' answers count from (default {DEFAULT_AS_OF.isoformat()}).",
)
def export_command(framework_id: str, version: str | None, as_of: dt.datetime | None) -> None:
    """The framework as JSON on stdout, with each item's ideal and zero answer."""
    f = _find(framework_id, version)
    day = as_of.date() if as_of is not None else DEFAULT_AS_OF
    click.echo(json.dumps(to_dict(f.framework, as_of=day, status=f.status), ensure_ascii=False, indent=2))


@frameworks.command("export-xlsx")
@click.argument("framework_id")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--version", "version", default=None, help="Default: the latest published version.")
def export_xlsx_command(framework_id: str, file: Path, version: str | None) -> None:
    """Write the framework as an Excel workbook for consultants."""
    f = _find(framework_id, version)
    export_xlsx(f.framework, file, status=f.status)
    click.echo(f"wrote {file} ({f.id} {f.version})")


@frameworks.command("import-xlsx")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out", "out", default=None, help="Where to write the YAML ('-' = stdout). Default: <id>/<version>.yaml."
)
@click.option("--force", is_flag=True, help="Overwrite an existing (unreleased) file.")
def import_xlsx_command(file: Path, out: str | None, force: bool) -> None:
    """Read a workbook, validate it and write it as a framework YAML file."""
    try:
        data = import_xlsx(file)
    except FrameworkError as exc:
        _fail_problems(exc)
    text = to_yaml(data)
    if out == "-":
        click.echo(text, nl=False)
        return
    root = default_root()
    target = Path(out) if out is not None else root / str(data["id"]) / f"{data['version']}.yaml"
    if out is None:
        released, _ = load_released(root)
        if f"{data['id']}/{data['version']}" in released:
            raise click.ClickException(f"{target} is a released version: give the workbook a new version")
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists: pass --force to overwrite, or --out PATH")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}")


@frameworks.command("release")
@click.argument("framework_id")
@click.argument("version")
def release_command(framework_id: str, version: str) -> None:
    """Record a published version's SHA-256 in released.json (it may never change afterwards)."""
    try:
        digest = release(framework_id, version)
    except ReleaseError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"released {framework_id}/{version} sha256 {digest}")


def _find(framework_id: str, version: str | None) -> FrameworkFile:
    try:
        return framework_file(framework_id, version)
    except FrameworkNotFound as exc:
        raise click.ClickException(str(exc.args[0])) from None
    except FrameworkError as exc:
        _fail_problems(exc)
