"""Render the pictures of README.md and docs/excel.md from the csv demo workbook (``make pictures``).

The demo manufacturer (seed 7) is built by ``sop demo --source csv`` on a fixed clock (``SOPXL_NOW``, in
UTC), so the pictures change only when the workbook does. LibreOffice headless exports the workbook to
PDF with its page setup (landscape, one page wide, header rows repeated: ``workbooks/printing.py``), the
footer of every page names its sheet, and poppler's ``pdftoppm`` renders the pages wanted:

- ``sop-grid.png``: the family S&OP grid, the top of its first page (its first two family blocks);
- ``summary.png``: the Summary's pages one above the other: what goes short first, then the family
  totals and the four charts;
- ``forecast.png``: the Forecast entry grid.

Each page is trimmed to its content and stored with a 64-colour palette (a few tens of KB). Pictures are
faithful to one renderer: LibreOffice 7.4 from Debian with the Carlito font (metric-compatible with
Calibri, ``make system-deps``); the tool refuses to run without Carlito, since another fallback font
changes every width. ``python docs/pictures.py --pages`` prints the demo workbook's page count per sheet.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

from addin.pack.pdf import to_pdf
from workbooks.printing import pages_by_sheet

NOW = "2026-11-25T08:00:00+01:00"
"""The demo's clock: the pictures show the horizon 2026-11 .. 2028-04 whatever day they are made."""
SEED = 7
DPI = 150
"""Renders the S&OP grid (printed at about 35 %) with text about 8 px high."""
COLOURS = 64
OUT = Path(__file__).resolve().parent / "img"
GRID_FAMILIES = 2
"""Family blocks of the S&OP grid in its picture."""
FOOTER_IN = 0.45
"""Bottom band of a page holding the footer: left out of the pictures."""


def environment() -> dict[str, str]:
    """The pinned environment of the demo and of LibreOffice: clock, time zone, locale (Letter paper)."""
    env = dict(os.environ)
    env.setdefault("SOPXL_NOW", NOW)
    env.update({"TZ": "UTC", "LC_ALL": "C.UTF-8", "PAPERSIZE": "letter"})
    return env


def check_tools() -> None:
    """LibreOffice, pdftoppm and Carlito, or a message saying what to install."""
    missing = [tool for tool in ("soffice", "pdftoppm", "pdftotext", "fc-match") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"pictures need {', '.join(missing)}: run `make system-deps` (LibreOffice, poppler-utils)")
    font = subprocess.run(["fc-match", "Calibri"], capture_output=True, text=True, check=True).stdout
    if "Carlito" not in font:
        sys.exit(
            f"Calibri falls back to {font.strip()!r}, not Carlito: install fonts-crosextra-carlito "
            "(`make system-deps`), or every column width in the pictures is wrong"
        )


def demo_workbook(folder: Path) -> Path:
    """The csv demo workbook, built by the ``sop`` command on the pinned clock."""
    sop = Path(sys.executable).with_name("sop")
    command = [str(sop), "demo", "--source", "csv", "--seed", str(SEED), "--out", str(folder)]
    subprocess.run(command, env=environment(), check=True, capture_output=True, timeout=300)
    return folder / "SOP.xlsx"


def workbook_pdf(book: Path) -> tuple[Path, dict[str, list[int]]]:
    """The workbook's PDF as LibreOffice prints it, and the PDF pages (1-based) of every sheet."""
    saved = dict(os.environ)
    os.environ.update(environment())  # to_pdf's LibreOffice inherits the pinned locale
    try:
        pdf = to_pdf(book, book.with_suffix(".pdf"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    return pdf, pages_by_sheet(text.stdout)


def family_start(pdf: Path, page: int, n: int) -> float:
    """How far down ``page`` (points) the S&OP grid's ``n``-th family block begins (the page's end if it
    holds fewer): read from the words of its first column."""
    words = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cells = [
        (float(m["x"]), float(m["y"]), m["word"])
        for m in re.finditer(r'<word xMin="(?P<x>[\d.]+)" yMin="(?P<y>[\d.]+)"[^>]*>(?P<word>[^<]*)</word>', words)
    ]
    left = min(x for x, _, _ in cells)
    column = sorted((y, word) for x, y, word in cells if x < left + 1)
    header = max(i for i, (_, word) in enumerate(column) if word == "Family")  # the header, not the title
    seen: list[str] = []
    for y, word in column[header + 1 :]:
        if not seen or word != seen[-1]:
            seen.append(word)
            if len(seen) == n + 1:
                return y - 1
    return math.inf


def page_image(pdf: Path, page: int, folder: Path, until: float = math.inf, *, sides: bool = True) -> Image.Image:
    """One PDF page rendered at :data:`DPI`, down to ``until`` points from its top (never into its footer
    band), trimmed to what is drawn on it."""
    stem = folder / f"page-{page}"
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile", "-png", str(pdf), str(stem)],
        check=True,
        timeout=120,
    )
    with Image.open(stem.with_suffix(".png")) as raw:
        image = raw.convert("RGB")
    bottom = min(image.height - round(FOOTER_IN * DPI), round(until * DPI / 72) if until != math.inf else image.height)
    image = image.crop((0, 0, image.width, bottom))
    return trim(image, sides=sides)


def trim(image: Image.Image, *, sides: bool = True, margin: int = 12) -> Image.Image:
    """``image`` cut to the box around its non-white pixels, plus ``margin``; ``sides=False`` keeps its
    width (pages stacked later keep their columns aligned)."""
    box = ImageOps.invert(image.convert("L")).point(lambda v: 255 if v > 8 else 0).getbbox()
    if box is None:
        return image
    left, top, right, bottom = box
    width, height = image.size
    if not sides:
        left, right = margin, width - margin
    return image.crop(
        (max(left - margin, 0), max(top - margin, 0), min(right + margin, width), min(bottom + margin, height))
    )


def stack(images: list[Image.Image], gap: int = 24) -> Image.Image:
    """Images one above the other, left-aligned, on white."""
    size = (max(i.width for i in images), sum(i.height for i in images) + gap * (len(images) - 1))
    out = Image.new("RGB", size, "white")
    y = 0
    for image in images:
        out.paste(image, (0, y))
        y += image.height + gap
    return out


def save(image: Image.Image, path: Path) -> int:
    """Store ``image`` with a small palette (text and fills stay crisp); return its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    return path.stat().st_size


def pictures(out: Path = OUT) -> dict[str, int]:
    """Render every picture into ``out``; return their sizes."""
    check_tools()
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="sopxl-pictures-") as tmp:
        folder = Path(tmp)
        pdf, pages = workbook_pdf(demo_workbook(folder / "demo"))
        first = pages["S&OP"][0]
        grid = page_image(pdf, first, folder, until=family_start(pdf, first, GRID_FAMILIES))
        sizes["sop-grid.png"] = save(grid, out / "sop-grid.png")
        summary = [page_image(pdf, page, folder, sides=False) for page in pages["Summary"]]
        sizes["summary.png"] = save(trim(stack(summary)), out / "summary.png")
        sizes["forecast.png"] = save(page_image(pdf, pages["Forecast"][0], folder), out / "forecast.png")
    return sizes


def page_counts() -> dict[str, int]:
    """Pages per sheet of the demo workbook's PDF."""
    check_tools()
    with tempfile.TemporaryDirectory(prefix="sopxl-pictures-") as tmp:
        _, pages = workbook_pdf(demo_workbook(Path(tmp) / "demo"))
    return {sheet: len(numbers) for sheet, numbers in pages.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", action="store_true", help="print the demo workbook's pages per sheet")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs (default docs/img)")
    args = parser.parse_args(argv)
    if args.pages:
        counts = page_counts()
        for sheet, count in counts.items():
            print(f"{sheet:<10} {count}")
        print(f"{'total':<10} {sum(counts.values())}")
        return
    for name, size in pictures(args.out).items():
        print(f"{args.out / name}  {size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
