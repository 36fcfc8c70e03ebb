"""Shared helpers for the tests: fictional ID numbers and running the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import settings
from stdnum.cn.ric import calc_check_digit

# No test is timed (performance is measured in benchmarks/): hypothesis' 200 ms
# per-example deadline failed on a loaded CI machine the first time the region
# code table was read.
settings.register_profile("yibao", deadline=None)
settings.load_profile("yibao")


def make_id(birth: str, seq: int = 123, region: str = "430423") -> str:
    """A fictional ID with a correct check digit: birth 'YYYYMMDD', seq odd=male."""
    body = f"{region}{birth}{seq:03d}"
    return body + calc_check_digit(body + "0")


def run_yibao(*args, stdin: str | None = None, env: dict | None = None, check_rc: int | None = 0):
    """Run the installed `yibao` command as a user would (a real process)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "yibao", *args], input=stdin, capture_output=True,
        text=True, encoding="utf-8", env=full_env, timeout=300,
    )
    if check_rc is not None:
        assert proc.returncode == check_rc, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc


def calc_lines(policy: str, rows: list[dict]) -> list[dict]:
    stdin = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    proc = run_yibao("calc", "--policy", policy, stdin=stdin)
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.fixture
def user_home(tmp_path, monkeypatch):
    """An empty per-user yibao folder, so tests never touch the real one."""
    monkeypatch.setenv("YIBAO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"
