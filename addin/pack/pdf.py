"""The PDF of the deck, converted by LibreOffice headless (Impress), for mail and the minutes' archive.

A private LibreOffice profile per run, so a LibreOffice the user has open neither blocks nor receives
the conversion. Without LibreOffice the deck is still written and the caller says why there is no PDF.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

TIMEOUT_SECONDS = 240


def soffice() -> str | None:
    """The LibreOffice executable, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(deck: Path, out: Path | None = None) -> Path:
    """Convert ``deck`` (.pptx) to ``out`` (default: beside it, .pdf). RuntimeError when it cannot."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) is not installed, so no PDF was made; the .pptx is written")
    target = out or deck.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="sopxl-pdf-") as tmp:
        profile = Path(tmp, "profile").as_uri()
        command = [
            exe,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            tmp,
            str(deck),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"LibreOffice did not convert {deck.name} within {TIMEOUT_SECONDS} s") from None
        made = Path(tmp, deck.with_suffix(".pdf").name)
        if done.returncode != 0 or not made.is_file():
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"LibreOffice could not convert {deck.name} to PDF: {detail[0]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(made), target)
    return target
