"""Every command line of README.md and docs/*.md works as written.

The fenced ``sh`` blocks are what a planner copies: each ``sop`` line runs, in the order of its page, in a
folder holding the demo ERP export (``exports/``), a master workbook (``SOP.xlsx``, with a plan version
published last month) and a team's own workbook (``OurPlan.xlsx``). Inline ``sop ...`` spans run too when
they are complete command lines; synopses (``[--full]``, ``FOLDER``, ``a|b``) are parsed by the real
command-line parser with their placeholders filled in, so an option a page names must exist.

Lines that need what a test machine lacks are parsed only (options and types checked, nothing run), each
for the reason in :data:`PARSE_ONLY`: a live ERP or the embedded Tryton, Excel's startup folder, a web
server with certificates and a licence key. Other shell lines (``make``, ``pip``, ``export``) are not sop's
and are listed in :data:`NOT_SOP` with why they are not run.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from addin import pipeline
from addin.cli import app
from addin.publish import publish_plan
from connectors.demo_data import write_export_folder
from tests.addin_support import DEMO_AS_OF

pytestmark = pytest.mark.demo_clock

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "shell", "console"}
PLACEHOLDER = re.compile(r"[A-Z][A-Z-]*")
"""An upper-case word in a synopsis (``FOLDER``, ``YYYY-MM-DD``) stands for a value."""
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)")
INLINE = re.compile(r"`(sop(?:\s[^`]*)?)`")

NOT_SOP = {
    "make": "builds .venv and runs this repository's demo or whole suite: the suite itself",
    "pip": "installs packages from PyPI (network)",
    "export": "sets a shell variable (an ERP secret) for the commands after it",
}
PLACEHOLDERS = {
    "FOLDER": "forecasts",
    "DIR": "exports/",
    "SRC": "exports/",
    "TEMPLATE": "Company.potx",
    "KIND": "odoo",
    "PROFILE": "odoo",
    "FILE": "Anna.xlsx",
    "OLD": "1",
    "NEW": "2",
    "N": "1",
    "F": "Bikes",
    "M": "2027-01",
    "O": "Anna",
    "YYYY-MM-DD": "2026-11-25",
}
"""What a synopsis' placeholders stand for when it is parsed."""


def _option(args: list[str], *names: str) -> str | None:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def _erp_source(args: list[str]) -> bool:
    source = _option(args, "--source", "-s")
    return source is not None and not source.rstrip("/").startswith(("exports", "erp-export", "demo"))


PARSE_ONLY: dict[str, Callable[[list[str]], bool]] = {
    "demo with the embedded Tryton ERP (seeded ~3 min on first use; tests/test_tryton_*.py run it)": (
        lambda a: a[:1] == ["demo"] and _option(a, "--source") in (None, "tryton")
    ),
    "check-connection and sync-erp talk to the profile's ERP host": (
        lambda a: a[:1] in (["check-connection"], ["sync-erp"])
    ),
    "--source names a live ERP (a sop.toml profile or tryton), not an export folder": _erp_source,
    "addin install writes into Excel's startup folder of this machine (tests/test_addin_xlam.py)": (
        lambda a: a[:2] == ["addin", "install"]
    ),
    "addin serve starts a web server that needs a licence key and certificates (tests/test_addin_officejs.py)": (
        lambda a: a[:2] == ["addin", "serve"]
    ),
    "publish --erp tryton writes to a Tryton server": lambda a: _option(a, "--erp") == "tryton",
    "connect --auth-code exchanges the code with the ERP's OAuth server": lambda a: "--auth-code" in a,
}


@dataclass(frozen=True)
class Documented:
    """One command line as a page shows it."""

    page: str
    line: int
    text: str
    fenced: bool

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


def shell_lines(path: Path) -> Iterator[tuple[int, str, str]]:
    """``(line number, fence language, logical line)`` of every fenced block (continuations joined)."""
    language: str | None = None
    pending, start = "", 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fence = FENCE.match(line)
        if fence:
            language = fence.group(2).lower() if language is None else None
            continue
        if language is None:
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield start, language, (pending + line).strip()
        pending = ""


def inline_spans(path: Path) -> Iterator[tuple[int, str]]:
    """``sop ...`` code spans outside fenced blocks (a span may wrap onto the next line)."""
    fenced = False
    kept: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            kept.append("")
            continue
        kept.append("" if fenced else line)
    text = "\n".join(kept)
    for match in INLINE.finditer(text):
        yield text.count("\n", 0, match.start()) + 1, " ".join(match.group(1).split())


def documented(path: Path) -> list[Documented]:
    """The page's sop command lines (fenced and inline), in page order."""
    page = path.relative_to(ROOT).as_posix()
    found = [
        Documented(page, number, text, True)
        for number, language, text in shell_lines(path)
        if language in SHELL and text.startswith("sop ")
    ]
    found += [Documented(page, number, span, False) for number, span in inline_spans(path)]
    return sorted(found, key=lambda d: d.line)


def words(text: str) -> list[str]:
    """The arguments after ``sop``, as the shell would pass them (comments dropped)."""
    return shlex.split(text, comments=True)[1:]


def synopsis(args: list[str]) -> bool:
    """A form with placeholders or optional parts rather than a command line to run."""
    return any("[" in a or "|" in a or "..." in a or PLACEHOLDER.fullmatch(a.strip("[]")) for a in args)


def filled(args: list[str]) -> list[str]:
    """A synopsis as a command line: brackets dropped (their options kept), placeholders filled in."""
    out = []
    for arg in args:
        arg = arg.strip("[]")
        if not arg:
            continue
        if "|" in arg:
            arg = arg.split("|")[0]
        if PLACEHOLDER.fullmatch(arg):
            assert arg in PLACEHOLDERS, f"unknown placeholder {arg!r}: add it to PLACEHOLDERS"
            arg = PLACEHOLDERS[arg]
        out.append(arg)
    return out


def parse(args: list[str]) -> object:
    """Parse ``args`` as the ``sop`` command line does (nothing runs): unknown options, missing required
    ones and bad values raise the parser's usage errors (:class:`typer.TyperException`)."""
    command = typer.main.get_command(app)
    rest = list(args)
    while isinstance(command, TyperGroup):
        assert rest, f"{args}: a command group needs a subcommand"
        sub = command.get_command(typer.Context(command), rest[0])
        assert sub is not None, f"{args}: no command {rest[0]!r}"
        command, rest = sub, rest[1:]
    command.make_context(command.name or "sop", rest)
    return command


def parse_only_reason(args: list[str]) -> str | None:
    return next((why for why, applies in PARSE_ONLY.items() if applies(args)), None)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A planner's folder: the demo ERP export, a master workbook with last month's plan published, and a
    team's own workbook that sopxl has never seen."""
    root = tmp_path_factory.mktemp("world")
    export = write_export_folder(root / "exports", seed=7, as_of=DEMO_AS_OF)
    master = pipeline.new_workbook(root / "SOP.xlsx", source=str(export))
    last_month = root / "last-month" / "SOP.xlsx"
    last_month.parent.mkdir()
    shutil.copy(master, last_month)
    book = openpyxl.load_workbook(last_month)  # last month's forecast differed (a test copy, never the master)
    sheet = book["Forecast"]
    for row in sheet.iter_rows(min_row=5):
        if row[0].value == "Bikes":
            row[2].value = 1234
    book.save(last_month)
    store = f"sqlite:///{root / 'SOP.plans.sqlite'}"
    publish_plan(last_month, source=str(export), store_url=store, plan_name="SOP", note="Oct S&OP")
    shutil.rmtree(last_month.parent)
    team = openpyxl.Workbook()
    team.active.title = "Plan"  # a sheet name sopxl also wants: attach must not touch it
    team["Plan"]["A1"] = "Our own plan"
    team.save(root / "OurPlan.xlsx")
    return root


def test_every_fenced_shell_line_is_a_sop_command_or_says_why_not() -> None:
    """A shell line that is not ``sop`` (``make``, ``pip``, ``export``) must be one of :data:`NOT_SOP`, and no
    ``sop`` line may hide in a block of another language, so nothing a page tells a planner to type escapes
    this test."""
    for path in PAGES:
        for number, language, text in shell_lines(path):
            where = f"{path.name}:{number}: {text}"
            if language not in SHELL:
                assert not text.startswith("sop "), f"{where}: a sop command in a ```{language} block"
            elif text and not text.startswith(("sop ", "#")):
                assert text.split()[0] in NOT_SOP, f"{where}: not a sop command; run it here or add to NOT_SOP"


def test_the_pages_show_commands_at_all() -> None:
    """The extraction finds what the pages show (the README's own examples among them)."""
    commands = [words(d.text) for path in PAGES for d in documented(path)]
    assert ["forecast-sheet", "--owner", "Anna", "--families", "Bikes,E-Bikes"] in commands  # the example
    assert ["refresh", "Plan.xlsx", "--source", "exports/"] in commands
    assert sum(1 for path in PAGES for d in documented(path) if d.fenced) >= 30


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_documented_commands_work_as_written(
    page: Path, world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each of the page's command lines, in page order, in a fresh copy of the planner's folder: it runs and
    exits 0 (``--json`` output is JSON), or, for the reasons in :data:`PARSE_ONLY`, it parses."""
    folder = tmp_path / "planner"
    shutil.copytree(world, folder)
    monkeypatch.chdir(folder)
    runner = CliRunner()
    ran: set[tuple[str, ...]] = set()
    for doc in documented(page):
        args = words(doc.text)
        if not args:
            continue  # `sop` alone: the name of the tool
        if len(args) == 1 and not doc.fenced:
            parse_command_name(args[0], doc)  # a reference to a command in prose (`sop refresh`)
            continue
        if synopsis(args):
            parse(filled(args))
            continue
        if parse_only_reason(args) is not None:
            parse(args)
            continue
        if tuple(args) in ran:
            continue
        ran.add(tuple(args))
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"{doc}\n{result.output}"
        assert "Traceback" not in result.output, f"{doc}\n{result.output}"
        if "--json" in args:
            json.loads(result.stdout)


def parse_command_name(name: str, doc: Documented) -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    assert group.get_command(typer.Context(group), name) is not None, f"{doc}: no command {name!r}"


def test_parse_only_lines_are_checked_by_the_real_parser() -> None:
    """The parse-only check is not a pass-through: a wrong option or a missing required one fails it."""
    parse(["check-connection", "odoo"])
    with pytest.raises(typer.TyperException):
        parse(["sync-erp", "odoo", "--fulll"])
    with pytest.raises(typer.TyperException):
        parse(["forecast-sheet", "--owner", "Anna"])  # --families is required
    reasons = {parse_only_reason(words(d.text)) for path in PAGES for d in documented(path)} - {None}
    assert len(reasons) >= 4  # demo on Tryton, live ERP sources, addin install and serve are all on the pages
