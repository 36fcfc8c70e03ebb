"""Actions run in worker threads, each with its own captured output.

:func:`install_streams` replaces ``sys.stdout``/``sys.stderr`` once with a
proxy that writes to the current job's buffers in a job's thread and to the
real stream elsewhere, so two actions at once keep their result lines
apart. The command line's progress bar (:class:`yibao.macros._bar.Bar`)
draws only on a terminal; the proxy says it is one in a job's thread and
reads the bar's ``done/total`` into :attr:`Job.progress`.
"""

from __future__ import annotations

import itertools
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

_local = threading.local()
_BAR = re.compile(r"\r([^\r\[]*?)\s*\[[#.]*\]\s*(\d+)/(\d+)")


@dataclass
class Job:
    id: str
    action: str
    label: str
    argv: list[str]
    state: str = "running"          # running | done | failed
    code: int | None = None
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    progress: float | None = None   # 0..1 while the command's bar reports it
    stage: str = ""
    started: float = field(default_factory=time.monotonic)
    result: dict = field(default_factory=dict)   # filled by the server after the run

    def line(self) -> str:
        """The one Chinese result line: the command's last output line, or
        its error line."""
        err = [x for x in "".join(self.err).splitlines() if x.strip() and not x.startswith("\r")]
        out = [x for x in "".join(self.out).splitlines() if x.strip()]
        if self.code not in (0, None):
            errors = [x for x in err if x.startswith("错误")]
            return (errors or err or out or ["未完成"])[-1]
        return (out or ["完成"])[-1]

    def to_json(self) -> dict:
        return {"id": self.id, "action": self.action, "label": self.label, "state": self.state,
                "code": self.code, "line": self.line() if self.state != "running" else "",
                "output": "".join(self.out), "notes": [x for x in "".join(self.err).splitlines()
                                                        if x.strip() and "\r" not in x],
                "progress": self.progress, "stage": self.stage, "command": command_line(self.argv),
                "seconds": round(time.monotonic() - self.started), **self.result}


def command_line(argv: list[str]) -> str:
    """The command a user would type for ``argv`` (quoted for this system's shell)."""
    import shlex
    import subprocess
    words = ["yibao", *argv]
    return subprocess.list2cmdline(words) if sys.platform == "win32" else shlex.join(words)


class _Stream:
    """sys.stdout / sys.stderr: the job's buffer in a job's thread."""

    def __init__(self, real, name: str):
        self._real = real
        self._name = name

    def _job(self) -> Job | None:
        return getattr(_local, "job", None)

    def write(self, text: str) -> int:
        job = self._job()
        if job is None:
            return self._real.write(text)
        if "\r" in text and self._name == "err":
            bars = _BAR.findall(text)
            if bars:
                label, done, total = bars[-1]
                job.progress = int(done) / int(total) if int(total) else None
                job.stage = label.strip()
            return len(text)
        getattr(job, self._name).append(text)
        return len(text)

    def isatty(self) -> bool:
        return self._job() is not None or self._real.isatty()

    def flush(self):
        if self._job() is None:
            self._real.flush()

    def __getattr__(self, name):
        return getattr(self._real, name)


def install_streams():
    if not isinstance(sys.stdout, _Stream):
        sys.stdout = _Stream(sys.stdout, "out")
    if not isinstance(sys.stderr, _Stream):
        sys.stderr = _Stream(sys.stderr, "err")


class Runner:
    """Starts jobs and keeps them (the page polls :meth:`get`)."""

    def __init__(self):
        self.jobs: dict[str, Job] = {}
        self.busy: dict[Path, str] = {}     # file → job id writing it
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, action: str, label: str, argv: list[str], files: list[Path],
              after: Callable[[Job], dict] | None = None, out: Path | None = None) -> Job:
        """Run ``yibao <argv>`` in a thread; ``files`` are the inputs no
        other job may use meanwhile, ``out`` the folder of its new files.
        ``after(job)`` adds to the result."""
        from yibao.cli import UserError
        install_streams()
        keys = [Path(f).resolve() for f in files]
        with self._lock:
            taken = [k for k in keys if k in self.busy]
            if taken:
                raise UserError(f"“{taken[0].name}”正在被另一项操作使用，请等它完成后再试")
            job = Job(f"{next(self._ids)}", action, label, argv)
            self.jobs[job.id] = job
            for k in keys:
                self.busy[k] = job.id

        def work():
            _local.job = job
            try:
                from yibao.cli import main
                try:
                    job.code = main(list(argv))
                except SystemExit as exc:   # argparse: the message is already on stderr
                    job.code = exc.code if isinstance(exc.code, int) else 2
                if after:
                    try:
                        job.result = after(job) or {}
                    except Exception as exc:  # showing a result must not hide the action's line
                        job.err.append(f"结果预览未能生成：{exc}\n")
            except BaseException as exc:    # never a traceback in the page
                job.code = 3
                job.err.append(f"错误：程序内部错误，请把这一行报告给开发人员：{type(exc).__name__}: {exc}\n")
            finally:
                _local.job = None
                _release(keys, out)
                job.state = "done" if job.code == 0 else "failed"
                with self._lock:
                    for k in keys:
                        self.busy.pop(k, None)

        threading.Thread(target=work, name=f"yibao-job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)


def _release(files: list[Path], out: Path | None):
    """Give up the yibao locks (``.~yibao-lock.…#``) the command took on its
    files: a command line run drops them when its process ends, the app's
    process goes on, and another program or command may want the file next."""
    from yibao import atomic
    written = [p for p in out.rglob("*") if p.is_file()] if out and out.is_dir() else []
    for path in list(files) + written:
        atomic.release(path)
