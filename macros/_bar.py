"""A progress bar on standard error for long command-line work.

Drawn only when standard error is a terminal, so logs and tests stay clean.
"""

from __future__ import annotations

import sys
import time


class Bar:
    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last = 0.0

    def __call__(self, done: int, total: int | None = None):
        if not self.live:
            return
        now = time.monotonic()
        if now - self.last < 0.2 and (total is None or done < total):
            return
        self.last = now
        if total:
            filled = int(30 * done / total)
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
        else:
            self.stream.write(f"\r{self.label} {done}")
        self.stream.flush()

    def close(self):
        if self.live:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()
