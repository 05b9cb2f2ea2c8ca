"""The deck's frame: the template, slide titles, text boxes and tables; :mod:`.slides` fills them.

The default look is sopxl's own (16:9, a navy title, a teal rule); a company template (``--template``,
.pptx or .potx) keeps its masters, fonts and colours: its "Title Slide" and "Title Only" layouts are used
and its sample slides are dropped. Every text is set as text (python-pptx escapes it), never as markup.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import PP_ALIGN
from pptx.util import Emu, Inches, Pt

from .charts import rgb

NAVY = rgb("1F3A5F")
TEAL = rgb("2A9D8F")
RED = rgb("C0392B")
GREY = rgb("6B7280")
LIGHT = rgb("EEF2F6")
WHITE = rgb("FFFFFF")
TEMPLATE_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml"
DECK_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
MISSING = "–"


def number(value: object, decimals: int = 0) -> str:
    """``12,500`` / ``0.96``; missing or infinite numbers show as a dash (never 0, never ``nan``)."""
    if value is None or isinstance(value, str):
        return MISSING if not value else str(value)
    x = float(value)  # type: ignore[arg-type]
    if not math.isfinite(x):
        return MISSING
    return f"{x:,.{decimals}f}"


def signed(value: float, decimals: int = 0) -> str:
    return MISSING if not math.isfinite(value) else f"{value:+,.{decimals}f}"


def _open_template(path: Path) -> Any:
    """A .pptx template as is; a .potx with its main part retyped as a presentation (python-pptx opens those)."""
    if path.suffix.lower() != ".potx":
        return Presentation(str(path))
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(TEMPLATE_TYPE.encode(), DECK_TYPE.encode())
            dst.writestr(info.filename, data)
    out.seek(0)
    return Presentation(out)


@dataclass
class Deck:
    """A presentation being written: the template's layouts and the usable area of a slide."""

    prs: Any
    branded: bool
    """True for sopxl's own look (titles placed and coloured here); False: the company template decides."""

    @classmethod
    def open(cls, template: Path | None) -> Deck:
        if template is None:
            prs = Presentation()
            prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
            return cls(prs, True)
        if not template.is_file():
            raise ValueError(f"{template}: no such template (give a .pptx or .potx file)")
        try:
            prs = _open_template(template)
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise ValueError(f"{template}: not a PowerPoint template ({exc})") from None
        slides = prs.slides._sldIdLst
        for slide_id in list(slides):  # a template's sample slides are not part of the pack
            prs.part.drop_rel(slide_id.rId)
            slides.remove(slide_id)
        return cls(prs, False)

    @property
    def width(self) -> int:
        return int(self.prs.slide_width)

    @property
    def height(self) -> int:
        return int(self.prs.slide_height)

    @property
    def margin(self) -> int:
        return int(self.width * 0.035)

    @property
    def body_top(self) -> int:
        return int(self.height * 0.2)

    def layout(self, name: str, fallback: int) -> Any:
        for candidate in self.prs.slide_layouts:
            if candidate.name.strip().lower() == name.lower():
                return candidate
        layouts = list(self.prs.slide_layouts)
        return layouts[min(fallback, len(layouts) - 1)]

    def slide(self, title: str, subtitle: str = "") -> Any:
        """A content slide: the title in the layout's title placeholder (or a text box), a subtitle line."""
        slide = self.prs.slides.add_slide(self.layout("Title Only", 5))
        self._title(slide, title, top=int(self.height * 0.04), size=28)
        if subtitle:
            self.text(
                slide,
                (self.margin, int(self.height * 0.13), self.width - 2 * self.margin, int(self.height * 0.06)),
                [subtitle],
                size=13,
                colour=GREY,
            )
        if self.branded:
            rule = slide.shapes.add_shape(
                MSO_SHAPE.RECTANGLE,
                Emu(self.margin),
                Emu(int(self.height * 0.125)),
                Emu(int(self.width * 0.08)),
                Emu(Pt(3)),
            )
            rule.fill.solid()
            rule.fill.fore_color.rgb = TEAL
            rule.line.fill.background()
        return slide

    def cover(self, title: str, subtitle: str) -> Any:
        slide = self.prs.slides.add_slide(self.layout("Title Slide", 0))
        self._title(slide, title, top=int(self.height * 0.06), size=34)
        placeholders = [p for p in slide.placeholders if p.placeholder_format.idx == 1]
        if placeholders and not self.branded:
            placeholders[0].text_frame.text = subtitle
        else:
            for p in placeholders:
                p._element.getparent().remove(p._element)
            self.text(
                slide,
                (self.margin, int(self.height * 0.18), self.width - 2 * self.margin, int(self.height * 0.07)),
                [subtitle],
                size=16,
                colour=GREY,
            )
        return slide

    def _title(self, slide: Any, text: str, *, top: int, size: int) -> None:
        shape = slide.shapes.title
        if shape is None:
            shape = slide.shapes.add_textbox(
                Emu(self.margin), Emu(top), Emu(self.width - 2 * self.margin), Emu(int(self.height * 0.09))
            )
        shape.text_frame.text = text
        if self.branded:
            shape.left, shape.top = Emu(self.margin), Emu(top)
            shape.width, shape.height = Emu(self.width - 2 * self.margin), Emu(int(self.height * 0.09))
            paragraph = shape.text_frame.paragraphs[0]
            paragraph.alignment = PP_ALIGN.LEFT
            for run in paragraph.runs:
                run.font.size, run.font.bold, run.font.color.rgb = Pt(size), True, NAVY

    def text(
        self,
        slide: Any,
        box: tuple[int, int, int, int],
        lines: Sequence[str],
        *,
        size: int = 12,
        colour: RGBColor | None = None,
        bold_first: bool = False,
    ) -> Any:
        """A text box with one paragraph per line."""
        shape = slide.shapes.add_textbox(*(Emu(v) for v in box))
        frame = shape.text_frame
        frame.word_wrap = True
        for i, line in enumerate(lines):
            paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            run = paragraph.add_run()
            run.text = line
            run.font.size = Pt(size)
            run.font.bold = bold_first and i == 0
            if colour is not None:
                run.font.color.rgb = colour
        return shape

    def table(
        self,
        slide: Any,
        box: tuple[int, int, int, int],
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        widths: Sequence[float] | None = None,
        size: int = 11,
        red_rows: Sequence[int] = (),
    ) -> Any:
        """A table with a header row; ``widths`` are shares of the box; ``red_rows`` (0-based data rows) in red."""
        left, top, width, _ = box
        height = int(Pt(size * 2.1)) * (len(rows) + 1)
        shape = slide.shapes.add_table(len(rows) + 1, len(header), Emu(left), Emu(top), Emu(width), Emu(height))
        table = shape.table
        shares = widths or [1.0] * len(header)
        for j, share in enumerate(shares):
            table.columns[j].width = Emu(int(width * share / sum(shares)))
        for i, row in enumerate([list(header), *[list(r) for r in rows]]):
            for j, value in enumerate(row):
                cell = table.cell(i, j)
                cell.text = str(value)
                paragraph = cell.text_frame.paragraphs[0]
                paragraph.alignment = PP_ALIGN.LEFT if j == 0 or i == 0 else PP_ALIGN.RIGHT
                for run in paragraph.runs:
                    run.font.size = Pt(size)
                    run.font.bold = i == 0
                    if i > 0 and (i - 1) in red_rows:
                        run.font.color.rgb = RED
                if self.branded:
                    cell.fill.solid()
                    cell.fill.fore_color.rgb = NAVY if i == 0 else (LIGHT if i % 2 == 0 else WHITE)
                    if i == 0:
                        for run in paragraph.runs:
                            run.font.color.rgb = WHITE
        return shape

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".~{path.name}")
        self.prs.save(str(tmp))
        tmp.replace(path)
        return path
