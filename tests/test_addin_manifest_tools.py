"""The Office.js manifest, as ``sop addin serve`` serves it, checked by Microsoft's own add-in tooling.

``office-addin-manifest`` (npm, pinned in package.json) can check an XML manifest only by posting it to
Microsoft's validation service, which this machine (and CI) cannot reach; its offline checks are reading
the manifest (``info``: its XML parser and field extraction) and validating a JSON (unified) manifest
against the schema it bundles (``validate manifest.json``). So the served XML manifest goes through both:
``info`` reads it, and ``office-addin-manifest-converter`` (Microsoft's XML-to-JSON converter) turns it into
the unified manifest, which ``validate`` checks against the bundled Microsoft 365 app schema. A broken copy
of the same manifest is run through the same tools as a control: the checks must reject it.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from addin import ribbon
from addin.addin_commands import MANIFEST_ID

from .addin_support import make_demo
from .test_addin_officejs import Server, serving

pytest.importorskip("xlwings_server", reason="the Office.js path is the opt-in extra sopxl[server]")

NODE_BIN = Path(__file__).resolve().parents[1] / "node_modules" / ".bin"
MANIFEST_TOOL = NODE_BIN / "office-addin-manifest"
CONVERTER = NODE_BIN / "office-addin-manifest-converter"

pytestmark = [
    pytest.mark.demo_clock,
    pytest.mark.skipif(
        not (MANIFEST_TOOL.exists() and CONVERTER.exists()), reason="the Node tools are not installed (make node-deps)"
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("manifest")
    with serving(folder, make_demo(folder), "manifest") as running:
        yield running


@pytest.fixture(scope="module")
def served(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    response = requests.get(f"{server.url}/manifest", timeout=60)
    assert response.status_code == 200
    path = tmp_path_factory.mktemp("served") / "manifest.xml"
    path.write_bytes(response.content)
    return path


def _run(*command: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=180, check=False)


def _info(manifest: Path) -> dict[str, str]:
    done = _run(MANIFEST_TOOL, "info", manifest)
    assert done.returncode == 0, done.stdout + done.stderr
    return {m[1].strip(): m[2].strip() for m in re.finditer(r"^\s+([^:\n]+): ?(.*)$", done.stdout, re.MULTILINE)}


def _convert(manifest: Path, out: Path) -> dict[str, Any] | None:
    """The unified JSON manifest Microsoft's converter makes of ``manifest`` (None if it made none: the
    converter reports some failures only by writing nothing)."""
    done = _run(CONVERTER, "convert", manifest, "-o", out)
    assert done.returncode == 0, done.stdout + done.stderr
    converted = out / "manifest.json"
    return json.loads(converted.read_text()) if converted.exists() else None


def _validate(unified: dict[str, Any], folder: Path) -> subprocess.CompletedProcess[str]:
    path = folder / "manifest.json"
    path.write_text(json.dumps(unified, indent=2))
    return _run(MANIFEST_TOOL, "validate", path)


def test_office_addin_manifest_reads_the_served_manifest(server: Server, served: Path) -> None:
    info = _info(served)
    assert info["Id"] == MANIFEST_ID
    assert info["Type"] == "TaskPaneApp"
    assert info["Hosts"] == "Workbook"
    assert info["Permissions"] == "ReadWriteDocument"
    assert info["Name"] == info["Provider"] == "sopxl"
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", info["Version"]), info["Version"]
    assert info["Source Location"] == f"{server.url}/taskpane.html"  # the host the request named
    assert info["AppDomains"] == server.url


def test_the_converted_manifest_passes_the_bundled_schema(served: Path, tmp_path: Path) -> None:
    unified = _convert(served, tmp_path / "converted")
    assert unified is not None, "the converter made no manifest of the served one"
    assert "<TRUNCATED>" not in json.dumps(unified)  # the converter's mark for a string too long to keep
    done = _validate(unified, tmp_path)
    assert done.returncode == 0 and "not valid" not in done.stdout, done.stdout + done.stderr
    assert unified["id"] == MANIFEST_ID
    # What the schema validated is our ribbon: one tab, each button bound to the action of its script.
    (extension,) = unified["extensions"]
    actions = {a["id"]: a["type"] for runtime in extension["runtimes"] for a in runtime.get("actions", [])}
    (tab,) = [t for r in extension["ribbons"] for t in r["tabs"]]
    assert tab["label"] == "S&OP"
    buttons = {c["label"]: c["actionId"] for g in tab["groups"] for c in g["controls"]}
    commands = {label: action for label, action in buttons.items() if actions[action] == "executeFunction"}
    assert commands == {a.label: f"sop-{tag}" for tag, a in ribbon.ACTIONS.items()}
    assert [label for label, action in buttons.items() if actions[action] == "openPage"] == ["S&OP pane"]


def test_the_tools_reject_a_broken_manifest(served: Path, tmp_path: Path) -> None:
    """The control: the same checks fail on what Office would refuse (so a pass above means something)."""
    text = served.read_text()
    bad_id = tmp_path / "bad-id.xml"
    bad_id.write_text(text.replace(f"<Id>{MANIFEST_ID}</Id>", "<Id>not-a-guid</Id>"))
    assert _convert(bad_id, tmp_path / "bad-id") is None  # the converter refuses it (by writing nothing)
    long_name = tmp_path / "long-function-name.xml"
    long_name.write_text(
        text.replace("<FunctionName>sop-refresh</FunctionName>", f"<FunctionName>{'x' * 80}</FunctionName>")
    )
    unified = _convert(long_name, tmp_path / "long-name")
    assert unified is not None
    done = _validate(unified, tmp_path / "long-name")
    assert done.returncode != 0 and "must NOT have more than 64 characters" in done.stdout, done.stdout
    good = _convert(served, tmp_path / "good")
    assert good is not None
    broken = copy.deepcopy(good)
    broken["id"] = "not-a-guid"
    done = _validate(broken, tmp_path / "good")
    assert done.returncode != 0 and "/id must match pattern" in done.stdout, done.stdout
