"""HTML to PDF with WeasyPrint, in a separate process with a time limit.

The render runs in a long-lived worker process (a plain `python -c` subprocess started on first use
and kept warm, so WeasyPrint, fontconfig and the CJK font are loaded once; unlike multiprocessing's
spawn it never re-imports the caller's main script). Jobs and results travel as pickles over a pair
of pipes between this process and its own child. The caller waits at most `timeout` seconds; past
that the worker is killed — its CPU and memory come back at once, unlike a thread's — and
`RenderTimeout` says so in plain words. A worker that dies is replaced on the next render.

Only this module and the worker touch WeasyPrint. The worker fetches nothing but the assets it is
handed (see `fetcher.py`), and reports back what it served and what it refused.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from webapp.reports.fetcher import Asset, AssetFetcher

ROOT = Path(__file__).resolve().parent.parent.parent


class RenderError(RuntimeError):
    """The PDF could not be made; the message says why in words a user can act on."""


class RenderTimeout(RenderError):
    pass


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    served: tuple[str, ...]
    refused: tuple[str, ...]
    seconds: float  # WeasyPrint's own time, inside the worker
    cpu_seconds: float  # the CPU time it took (the same, when the machine is not busy)


class _SvgStyleNoise(logging.Filter):
    """WeasyPrint's CSS parser does not know the SVG properties in the style attributes of an inline
    SVG, and logs each one it skips ("Ignored `text-anchor:end` at 1:1, unknown property."), though its
    SVG renderer applies them: a line for every chart label of every report, which buried everything
    else in the logs. Those lines go; every other warning stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Ignored `text-anchor:")


_SVG_STYLE_NOISE = _SvgStyleNoise()


def render_in_process(html: str, assets: dict[str, Asset]) -> Rendered:
    """WeasyPrint in this process (the worker's body; also what the benchmark calls "WeasyPrint alone")."""
    from weasyprint import HTML

    logging.getLogger("weasyprint").addFilter(_SVG_STYLE_NOISE)  # once: the same filter is not added twice

    started, cpu = time.perf_counter(), time.process_time()
    fetcher = AssetFetcher(assets)
    document = HTML(string=html, url_fetcher=fetcher).render()
    pdf = document.write_pdf()
    assert pdf is not None
    return Rendered(
        pdf=pdf,
        pages=len(document.pages),
        served=tuple(fetcher.served),
        refused=tuple(fetcher.refused),
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu,
    )


_WARM_UP = (
    '<html lang="zh-CN"><body style="font-family: \'Noto Sans CJK SC\'">'
    "<p>质评通 QReady</p><p><b>质评通 QReady</b></p></body></html>"
)


def serve(read_fd: int, write_fd: int) -> None:  # pragma: no cover - runs in the worker process
    """The worker's loop: a job (html, assets) in, ("ok", Rendered) or ("error", message) out."""
    jobs, results = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    os.dup2(2, 1)  # anything printed goes to stderr, never into the pipes
    render_in_process(_WARM_UP, {})  # fontconfig, Pango and the CJK faces, loaded before the first job
    while True:
        try:
            job = jobs.recv()
        except EOFError:  # the app process is gone
            return
        try:
            results.send(("ok", render_in_process(*job)))
        except Exception as exc:
            results.send(("error", f"{type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self) -> None:
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        )
        code = f"from webapp.reports.render import serve; serve({job_r}, {res_w})"
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code],
                pass_fds=(job_r, res_w),
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        finally:
            os.close(job_r)
            os.close(res_w)
        self.jobs = Connection(job_w, readable=False)
        self.results = Connection(res_r, writable=False)

    def render(self, html: str, assets: dict[str, Asset], timeout: float) -> Rendered:
        try:
            self.jobs.send((html, assets))
        except OSError:
            self.stop()
            raise RenderError("The report renderer stopped unexpectedly. Try again.")
        if not self.results.poll(timeout):
            self.stop()
            raise RenderTimeout(
                f"The report took longer than {timeout:g} seconds to render and was stopped. "
                "Try again later; if it keeps happening, ask an administrator to raise REPORT_RENDER_TIMEOUT."
            )
        try:
            status, payload = self.results.recv()
        except (EOFError, OSError):
            self.stop()
            raise RenderError("The report renderer stopped unexpectedly. Try again.")
        if status != "ok":
            raise RenderError(f"The report could not be rendered: {payload}")
        assert isinstance(payload, Rendered)
        return payload

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)
        self.jobs.close()
        self.results.close()


class _Pool:
    """Idle workers, at most `size` renders at a time; reset in a forked child (an RQ work horse)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.idle: list[_Worker] = []
        self.size = 0
        self.slots = threading.BoundedSemaphore(1)

    def acquire(self, size: int, timeout: float) -> tuple[_Worker, threading.BoundedSemaphore]:
        """A warm worker (or a new one) and the slot it holds; give both back with `release`."""
        with self.lock:
            if self.pid != os.getpid():  # inherited from a parent process: its workers are not ours
                self.pid, self.idle = os.getpid(), []
            if self.size != size:
                self.slots, self.size = threading.BoundedSemaphore(size), size
            slots = self.slots
        if not slots.acquire(timeout=timeout):
            raise RenderTimeout(
                f"Every report renderer stayed busy for {timeout:g} seconds. Try again in a minute."
            )
        with self.lock:
            while self.idle:
                worker = self.idle.pop()
                if worker.alive:
                    return worker, slots
                worker.stop()
        try:
            return _Worker(), slots
        except BaseException:
            slots.release()
            raise

    def release(self, worker: _Worker, slots: threading.BoundedSemaphore) -> None:
        with self.lock:
            if worker.alive and self.pid == os.getpid():
                self.idle.append(worker)  # a killed or dead worker is dropped, a live one kept warm
        slots.release()

    def shutdown(self) -> None:
        with self.lock:
            workers, self.idle = self.idle, []
        for w in workers:
            w.stop()


_POOL = _Pool()
atexit.register(_POOL.shutdown)


def render_pdf(html: str, assets: dict[str, Asset], *, timeout: float = 30, workers: int = 1) -> Rendered:
    """Render `html` in a worker process; raise `RenderTimeout` after `timeout` seconds."""
    worker, slot = _POOL.acquire(workers, timeout)
    try:
        return worker.render(html, assets, timeout)
    finally:
        _POOL.release(worker, slot)


def warm_up(workers: int = 1) -> None:
    """Start the worker processes now (the benchmark and `rq worker` call this), not at the first report."""
    started = [_POOL.acquire(workers, 60) for _ in range(workers)]
    for worker, slot in started:
        try:
            worker.render(_WARM_UP, {}, 60)
        finally:
            _POOL.release(worker, slot)


def shutdown() -> None:
    _POOL.shutdown()
