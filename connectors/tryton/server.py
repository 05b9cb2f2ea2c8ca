"""Run the embedded demo ERP: a real ``trytond`` on 127.0.0.1 serving a COPY of the seeded database.

    with demo_server() as demo:
        snapshot = TrytonConnector(demo.settings).snapshot()

The server runs in its own process group, is waited for until it answers JSON-RPC, and is stopped on exit
(terminate, then kill): no orphan process is left behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from pydantic import SecretStr

from .seed import DATABASE, SeededDatabase, SeedProgress, ensure_seeded, write_config
from .settings import PASSWORD_ENV, TrytonSettings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DemoServer:
    """One running (or stoppable and restartable) trytond over a private copy of the seeded database."""

    def __init__(
        self,
        seeded: SeededDatabase,
        workdir: Path,
        config: dict[str, dict[str, str]] | None = None,
        cache_dir: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.seeded = seeded
        self.env = dict(os.environ, **(env or {}))
        """The server process's environment (tests add e.g. libfaketime to give the ERP its own clock)."""
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = workdir / "trytond.conf"
        extra = {"web": {"listen": f"127.0.0.1:{self.port}"}}
        for name, values in (config or {}).items():
            extra.setdefault(name, {}).update(values)
        write_config(self.config_path, workdir, extra)
        shutil.copyfile(seeded.sqlite_file, workdir / f"{DATABASE}.sqlite")
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "trytond.log"
        self.settings = TrytonSettings(
            url=self.url,
            database=DATABASE,
            user="admin",
            password=SecretStr(seeded.password()),
            cache_dir=cache_dir or workdir / ".sop-cache",
            session_dir=workdir / "sessions",  # the demo's sessions live and die with its database copy
        )
        self.start_seconds = 0.0

    @property
    def manifest(self) -> dict[str, Any]:
        return self.seeded.manifest

    @property
    def password_env(self) -> dict[str, str]:
        """``{SOP_TRYTON_PASSWORD: ...}`` to pass to a child process's environment (never printed)."""
        return {PASSWORD_ENV: self.settings.password.get_secret_value()}

    def start(self, timeout: float = 60.0) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        started = time.monotonic()
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                [str(self.seeded.bin / "trytond"), "-c", str(self.config_path), "-d", DATABASE],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=self.env,
            )
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise RuntimeError(f"trytond exited with {self.process.returncode}:\n{tail}")
            try:
                reply = requests.post(
                    f"{self.url}/rpc/", json={"id": 0, "method": "common.server.version", "params": []}, timeout=2
                )
                if reply.status_code == 200:
                    self.start_seconds = time.monotonic() - started
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"trytond did not answer on {self.url} within {timeout:.0f}s")

    def stop(self, grace: float = 10.0) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def demo_server(
    config: dict[str, dict[str, str]] | None = None,
    workdir: Path | None = None,
    cache_dir: Path | None = None,
    show_progress: bool | None = None,
    env: dict[str, str] | None = None,
    on_progress: SeedProgress | None = None,
) -> Iterator[DemoServer]:
    """Build (first time) or reuse the seeded database, serve a copy of it, yield the running server.

    ``demo.settings`` are ready connection settings (the generated admin password is inside, as a secret);
    ``config`` adds trytond.conf values, e.g. ``{"session": {"timeout": "2"}}``; ``env`` adds environment
    variables of the server process. ``on_progress`` receives the first-run build's progress instead of
    its own display (a caller that already shows one).
    """
    seeded = ensure_seeded(show_progress=show_progress, on_progress=on_progress)
    owned = workdir is None
    directory = Path(tempfile.mkdtemp(prefix="sopxl-tryton-")) if workdir is None else workdir
    directory.mkdir(parents=True, exist_ok=True)
    server = DemoServer(seeded, directory, config=config, cache_dir=cache_dir, env=env)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        if owned:
            shutil.rmtree(directory, ignore_errors=True)
