"""The Flask application behind ``yibao app``.

Security (issue 15): served on 127.0.0.1 only (:func:`make_server`); every
request carries the random token (``?token=`` in the URL the browser is
opened at, then an HttpOnly SameSite=Strict cookie or the ``X-Yibao-Token``
header); the Host header must name this server (no DNS rebinding);
uploads are limited (:data:`MAX_UPLOAD_MB` by default, 413 with a Chinese
line); the page may only name files under the user's home, the folders
given to ``yibao app`` and the app's own folder; results go into the app's
results folder, or into the user's file itself for the in-place actions,
exactly as the command does it (FileBook, backup beside the file).
"""

from __future__ import annotations

import datetime
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from flask import Flask, Response, abort, g, jsonify, render_template, request, send_file

from . import HOST
from .actions import READABLE, Action, actions as read_actions, argv as build_argv, expand
from .jobs import Job, Runner

MAX_UPLOAD_MB = 200
TOKEN_COOKIE = "yibao_token"
#: what a finding table shows at most (the sheet has them all)
MAX_FINDINGS = 500
#: what 打开 hands to the system besides the spreadsheets (never a program: os.startfile would run it)
OPENABLE = (".pdf", ".png", ".jpg", ".toml")
_UNSAFE = re.compile(r'[\x00-\x1f<>:"|?*\\]')


class Refused(Exception):
    """A request the page must not be allowed to make (403, Chinese line)."""


def _json_error(text: str, status: int):
    """The refusal as JSON for the page's scripts, as a readable Chinese page
    for someone who typed the address into a browser."""
    if not request.path.startswith("/api/") and request.accept_mimetypes.accept_html:
        from html import escape
        return Response(f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>医保征缴助手</title>'
                        f'<p>{escape(text)}</p></html>', status=status,
                        content_type="text/html; charset=utf-8")
    response = jsonify({"error": text})
    response.status_code = status
    return response


def create_app(token: str, port: int, workdir: Path, folders: list[Path] = (), home: bool = True,
               max_upload_mb: int = MAX_UPLOAD_MB) -> Flask:
    """The application for one ``yibao app`` run. ``folders`` (and the user's
    home when ``home``) are where the page may read and write; ``workdir``
    holds 上传/ and 结果/."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_upload_mb * 1024 * 1024
    app.json.ensure_ascii = False
    workdir = Path(workdir).expanduser().resolve()
    uploads, results = workdir / "上传", workdir / "结果"
    roots = [workdir] + [Path(f).expanduser().resolve() for f in folders]
    if home:
        roots.append(Path.home().resolve())
    # where 浏览本机文件 opens: the first folder given to `yibao app`, else the home folder
    start = roots[1] if len(roots) > 1 else roots[0]
    hosts = {f"{HOST}:{port}", f"localhost:{port}"}
    runner = Runner()
    state = {"actions": None}
    lock = threading.Lock()

    def all_actions() -> dict[str, Action]:
        if state["actions"] is None:
            state["actions"] = read_actions()
        return state["actions"]

    def allowed(text: str) -> Path:
        """``text`` as a path the page may use, or :class:`Refused`."""
        if not text or "\x00" in str(text):
            raise Refused("路径为空")
        path = Path(str(text).strip().strip('"')).expanduser()
        if not path.is_absolute():
            raise Refused(f"请给出完整路径（如 {start / '台账.xlsx'}），而不是“{text}”")
        path = path.resolve()
        if not any(path == r or r in path.parents for r in roots):
            raise Refused(f"“{path}”不在允许使用的文件夹中（{'、'.join(str(r) for r in roots)}）；"
                          f"要用别的文件夹，请这样启动：yibao app 文件夹路径")
        return path

    @app.before_request
    def guard():
        host = (request.headers.get("Host") or "").lower()
        if host not in hosts:
            return _json_error("拒绝访问：网址的主机名不是本机（127.0.0.1）", 400)
        given = (request.args.get("token") or request.headers.get("X-Yibao-Token")
                 or request.cookies.get(TOKEN_COOKIE) or "")
        if not secrets.compare_digest(given.encode(), token.encode()):
            return _json_error("拒绝访问：缺少或错误的访问码；请用“yibao app”打开的网址", 403)
        g.token_ok = True
        origin = request.headers.get("Origin")
        if origin and origin.lower() not in {f"http://{h}" for h in hosts}:
            return _json_error("拒绝访问：请求来自别的网站", 403)

    @app.after_request
    def headers(response: Response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'")
        if g.get("token_ok") and request.args.get("token") and request.path == "/":
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    @app.errorhandler(413)
    def too_big(_exc):
        return _json_error(f"上传的文件太大：一次最多{max_upload_mb}MB；大文件请用“浏览本机文件”直接选取，不必上传", 413)

    @app.errorhandler(Refused)
    def refused(exc):
        return _json_error(str(exc), 403)

    @app.errorhandler(Exception)
    def internal(exc):
        from werkzeug.exceptions import HTTPException
        if isinstance(exc, HTTPException):
            chinese = {404: "找不到这个网址（或这项操作已不在本次运行中）；请用“yibao app”打开的网址",
                       405: "不支持这种请求"}
            return _json_error(chinese.get(exc.code, exc.description or exc.name), exc.code or 500)
        return _json_error(f"程序内部错误，请把这一行报告给开发人员：{type(exc).__name__}: {exc}", 500)

    @app.get("/")
    def index():
        return render_template("index.html")

    @app.get("/api/state")
    def api_state():
        from yibao.functions import plan as plans
        from yibao import __version__
        listed = []
        for pid, path, origin in plans.list_plans():
            try:
                name = plans.load(path).name
            except plans.PlanError:
                continue
            listed.append({"id": pid, "name": name, "origin": origin})
        return jsonify({"version": __version__, "plans": listed,
                        "actions": [a.to_json() for a in all_actions().values()],
                        "roots": [str(r) for r in roots], "results": str(results),
                        "start": str(start), "max_upload_mb": max_upload_mb})

    @app.get("/api/browse")
    def api_browse():
        folder = allowed(request.args.get("path") or str(start))
        if folder.is_file():
            return jsonify({"path": str(folder), "kind": "file", "name": folder.name})
        if not folder.is_dir():
            raise Refused(f"找不到“{folder}”")
        entries = []
        try:
            children = sorted(folder.iterdir(), key=lambda p: (not p.is_dir(), p.name))
        except OSError as exc:
            raise Refused(f"打不开文件夹“{folder}”（{exc.strerror}）") from None
        for child in children:
            if child.name.startswith((".", "~$")):
                continue
            if child.is_dir():
                entries.append({"name": child.name, "path": str(child), "kind": "dir"})
            elif child.suffix.lower() in READABLE + (".pdf", ".toml"):
                entries.append({"name": child.name, "path": str(child), "kind": "file"})
        parent = folder.parent
        up = str(parent) if parent != folder and any(parent == r or r in parent.parents for r in roots) else None
        return jsonify({"path": str(folder), "kind": "dir", "name": folder.name, "entries": entries, "up": up,
                        "roots": [str(r) for r in roots]})

    @app.post("/api/upload")
    def api_upload():
        files = request.files.getlist("file")
        names = request.form.getlist("relpath")
        if not files:
            return _json_error("没有收到文件", 400)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        batch = uploads / stamp
        tops = []
        for i, f in enumerate(files):
            rel = names[i] if i < len(names) and names[i] else f.filename or f"文件{i + 1}"
            parts = [_UNSAFE.sub("_", p).strip() for p in rel.replace("\\", "/").split("/")]
            parts = [p for p in parts if p and p not in (".", "..")]
            if not parts:
                parts = [f"文件{i + 1}"]
            target = batch.joinpath(*parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                f.save(target)
            except OSError as exc:
                shutil.rmtree(batch, ignore_errors=True)
                return _json_error(f"无法保存上传的文件“{parts[-1][:40]}”（{exc.strerror or exc}）："
                                   f"文件名太长或磁盘已满时请改短文件名、清理磁盘后再试", 400)
            top = batch / parts[0]
            if top not in tops:
                tops.append(top)
        return jsonify({"items": [{"path": str(t), "name": t.name, "kind": "dir" if t.is_dir() else "file"}
                                  for t in tops]})

    @app.post("/api/run")
    def api_run():
        from yibao.cli import UserError
        body = request.get_json(silent=True) or {}
        if not isinstance(body, dict) or not isinstance(body.get("values") or {}, dict) \
                or not isinstance(body.get("action") or "", str) or not isinstance(body.get("plan") or "", str):
            return _json_error("请求的格式不对；请刷新页面后再试", 400)
        action = all_actions().get(body.get("action", ""))
        if action is None:
            return _json_error("没有这个操作", 400)
        plan = (body.get("plan") or "").strip() or None
        if plan is not None:        # a plan the list offers, never a file the command would read as one
            from yibao.functions import plan as plans
            if plan not in {pid for pid, _path, _origin in plans.list_plans()}:
                return _json_error(f"没有这个方案：“{plan}”；请在页面上方的列表中选择", 400)
        values = dict(body.get("values") or {})
        inputs: list[Path] = []
        for f in action.fields:
            if f.kind in ("file", "files") and values.get(f.dest):
                given = values[f.dest] if isinstance(values[f.dest], list) else [values[f.dest]]
                paths = [allowed(str(v)) for v in given]
                if not f.folders:       # a folder where the command takes files: its files, as 台账/*.xlsx would
                    paths = expand(paths)
                missing = [p for p in paths if not p.exists()]
                if missing:
                    return _json_error(f"找不到文件“{missing[0]}”", 400)
                values[f.dest] = [str(p) for p in paths]
                inputs += expand(paths)
        with lock:     # this job's own results folder (removed again if nothing is written into it)
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            out = results / f"{stamp}-{action.label}"
            n = 2
            while out.exists():
                out = results / f"{stamp}-{action.label}-{n}"
                n += 1
            out.mkdir(parents=True)
        try:
            argv = build_argv(action, values, plan, out)
        except UserError as exc:
            out.rmdir()
            return _json_error(str(exc), 400)
        before = {p: _stamp(p) for p in inputs}
        beside = {p.parent: _names(p.parent) for p in inputs}   # a PDF a command prints beside its workbook
        first = next((values[f.dest] for f in action.fields if f.kind in ("file", "files") and values.get(f.dest)), [])
        names = "、".join(Path(p).name for p in first[:3]) + (f"等{len(first)}个文件" if len(first) > 3 else "")
        try:
            job = runner.start(action.id, f"{action.label}：{names}" if names else action.label, argv, inputs,
                               after=lambda job: _after(job, action, out, before, results, uploads, beside), out=out)
        except UserError as exc:
            out.rmdir()
            return _json_error(str(exc), 409)
        return jsonify(job.to_json())

    @app.get("/api/jobs/<job_id>")
    def api_job(job_id):
        job = runner.get(job_id)
        if job is None:
            abort(404)
        return jsonify(job.to_json())

    @app.get("/api/jobs")
    def api_jobs():
        return jsonify([j.to_json() for j in runner.jobs.values()])

    @app.get("/file")
    def file():
        path = allowed(request.args.get("path", ""))
        if not path.is_file():
            abort(404)
        inline = path.suffix.lower() in (".png", ".pdf") and not request.args.get("download")
        return send_file(path, as_attachment=not inline, download_name=path.name)

    @app.post("/api/open")
    def api_open():
        body = request.get_json(silent=True) or {}
        path = allowed(body.get("path", ""))
        if not path.exists():
            return _json_error(f"找不到“{path}”", 404)
        if path.is_file() and path.suffix.lower() not in READABLE + OPENABLE:
            raise Refused(f"只能打开表格、PDF、图片和文件夹，不能打开“{path.name}”")
        _open_with_system(path)
        return jsonify({"ok": True})

    return app


def _stamp(path: Path):
    try:
        st = path.stat()
        return (st.st_mtime_ns, st.st_size)
    except OSError:
        return None


def _names(folder: Path) -> dict[str, tuple | None]:
    """The files of ``folder`` and their stamps (what changed there during a job)."""
    try:
        return {n: _stamp(folder / n) for n in os.listdir(folder)}
    except OSError:
        return {}


def _after(job: Job, action: Action, out: Path, before: dict, results: Path, uploads: Path,
           beside: dict | None = None) -> dict:
    """What the page shows beyond the line: the files written (new ones in
    the results folder, the user's files the action changed in place and
    the new files it put beside them, as 汇总上报's PDF), the validation
    findings, the progress chart."""
    from yibao.atomic import is_backup, is_lock_file
    written = [p for p, s in before.items() if _stamp(p) != s and p.exists()]
    printed = []        # new or rewritten beside an input and named after it (任务分配表-汇总上报.pdf)
    for folder, names in (beside or {}).items():
        stems = tuple(p.stem for p in before if p.parent == folder)
        printed += sorted(folder / n for n, s in _names(folder).items()
                          if names.get(n) != s and n.startswith(stems) and (folder / n) not in before
                          and (folder / n).is_file() and not is_backup(folder / n) and not is_lock_file(folder / n))
    made = sorted(p for p in out.rglob("*") if p.is_file()) if out.is_dir() else []
    if out.is_dir() and not made:
        shutil.rmtree(out, ignore_errors=True)      # nothing written: no empty folder left behind
    # an -o given as a path the command wrote beside (e.g. a PDF next to the .xlsx) is in `made` too
    files = [{"path": str(p), "name": p.name, "changed": p in written, "uploaded": uploads in p.parents}
             for p in written + printed + made]
    shown: dict = {"files": files, "folder": str(out) if made else ""}
    if job.code != 0:
        return shown
    books = [Path(f["path"]) for f in files if f["path"].lower().endswith((".xlsx", ".xlsm"))]
    if action.id == "validate":
        shown["findings"] = _findings(books)
    if action.id == "progress":
        shown.update(_progress(books, out if made else results / "进度图"))
    return shown


def _findings(books: list[Path]) -> dict:
    """The 校验报告 rows the validation wrote, for the table in the page."""
    from yibao.macros.book import read_grid_any
    from yibao.macros.validate import REPORT_SHEET
    rows, total = [], 0
    header = None
    for book in books:
        grid = read_grid_any(book).get(REPORT_SHEET)
        if not grid:
            continue
        header = [str(x or "") for x in grid[0]]
        for r in grid[1:]:
            if not any(v not in (None, "") for v in r):
                continue
            total += 1
            if len(rows) < MAX_FINDINGS:
                rows.append({"book": book.name, "path": str(book), "cells": ["" if v is None else
                                                                              (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                                                                              for v in r]})
    return {"header": header or [], "rows": rows, "total": total, "sheet": REPORT_SHEET}


def _progress(books: list[Path], folder: Path) -> dict:
    """The 进度通报 sheet's table, and its bar chart as a picture (printed by
    LibreOffice, as docs/make_doc_images.py does) when LibreOffice is here."""
    from yibao.macros.book import read_grid_any
    from yibao.macros.progress import SHEET
    for book in books:
        grid = read_grid_any(book).get(SHEET)
        if not grid:
            continue
        table = [["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else
                                        (f"{v:.4g}" if isinstance(v, float) else str(v))) for v in r]
                 for r in grid if any(v not in (None, "") for v in r)]
        shown = {"progress_table": table[:60]}
        picture = _chart_picture(book, SHEET, folder)
        if picture:
            shown["chart"] = str(picture)
        return shown
    return {}


def _chart_picture(book: Path, sheet: str, folder: Path) -> Path | None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftoppm"):
        return None
    import openpyxl
    with tempfile.TemporaryDirectory(prefix="yibao-chart-") as tmp:
        tmp = Path(tmp)
        copy = tmp / "进度通报.xlsx"
        wb = openpyxl.load_workbook(book)
        for ws in list(wb.worksheets):
            if ws.title != sheet:
                wb.remove(ws)
        wb.save(copy)
        profile = (tmp / "profile").as_uri()
        try:
            subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                            "--convert-to", "pdf", "--outdir", str(tmp), str(copy)],
                           check=True, capture_output=True, timeout=120)
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"进度通报图-{book.stem}-{datetime.datetime.now():%Y%m%d-%H%M%S-%f}.png"
            subprocess.run(["pdftoppm", "-png", "-r", "90", "-f", "1", "-l", "1", "-singlefile",
                            str(tmp / "进度通报.pdf"), str(target.with_suffix(""))],
                           check=True, capture_output=True, timeout=60)
        except (subprocess.SubprocessError, OSError):
            return None
        return target if target.exists() else None


def _open_with_system(path: Path):
    """The user's own program opens the file (Excel, WPS) or folder."""
    if sys.platform == "win32":
        os.startfile(str(path))     # noqa: S606 - the user's own file, on the user's own machine
    elif sys.platform == "darwin":
        subprocess.Popen(["open", str(path)])
    else:
        subprocess.Popen(["xdg-open", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_server(app: Flask, port: int):
    """A waitress server on 127.0.0.1:``port`` (never another interface)."""
    from waitress import create_server
    return create_server(app, host=HOST, port=port, threads=8, ident="yibao")

