"""``yibao app`` without a browser: the security checks of issue 15 (token,
Host header, loopback, upload limit, allowed folders), the forms read from
the command line's parsers, jobs run side by side, the Windows shortcut."""
from __future__ import annotations

import base64
import http.client
import io
import json
import re
import threading
import time
from pathlib import Path

import pytest

from yibao.app import actions as app_actions
from yibao.app import shortcut
from yibao.app.server import create_app, make_server

TOKEN = "test-token-1234567890"
PORT = 18999          # only in the Host header of the Flask test client; nothing listens on it


@pytest.fixture
def folders(tmp_path):
    mine = tmp_path / "我的文件"
    mine.mkdir()
    return {"mine": mine, "work": tmp_path / "助手", "outside": tmp_path / "别处"}


@pytest.fixture
def client(folders, user_home):
    app = create_app(TOKEN, PORT, folders["work"], [folders["mine"]], home=False, max_upload_mb=1)
    return app.test_client()


def get(client, path, token=TOKEN, host=f"127.0.0.1:{PORT}", **kw):
    query = ("&" if "?" in path else "?") + f"token={token}" if token else ""
    return client.get(path + query, headers={"Host": host, **kw.pop("headers", {})}, **kw)


def post(client, path, token=TOKEN, host=f"127.0.0.1:{PORT}", **kw):
    headers = {"Host": host, **({"X-Yibao-Token": token} if token else {}), **kw.pop("headers", {})}
    return client.post(path, headers=headers, **kw)


def wait(client, job):
    for _ in range(600):
        body = get(client, f"/api/jobs/{job['id']}").get_json()
        if body["state"] != "running":
            return body
        time.sleep(0.1)
    raise AssertionError("job did not finish")


# ------------------------------------------------------------ who gets in

def test_page_needs_the_token(client):
    no = get(client, "/", token=None)
    assert no.status_code == 403 and "访问码" in no.get_json()["error"]
    assert get(client, "/", token="guessed").status_code == 403
    assert get(client, "/api/state", token=None).status_code == 403
    assert get(client, "/static/app.js", token=None).status_code == 403
    assert post(client, "/api/run", token=None, json={"action": "validate"}).status_code == 403
    ok = get(client, "/")
    assert ok.status_code == 200 and "医保征缴助手" in ok.get_data(as_text=True)
    # the browser then sends the token as a cookie the page's scripts cannot read
    cookie = ok.headers["Set-Cookie"]
    assert TOKEN in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/static/app.js", headers={"Host": f"127.0.0.1:{PORT}"}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example:18999", "evil.example", "127.0.0.1:80", "192.168.1.5:18999", ""])
def test_foreign_host_refused(client, host):
    """DNS rebinding: a page from another site resolving its name to 127.0.0.1
    sends its own Host; even with the token it is turned away."""
    r = get(client, "/api/state", host=host)
    assert r.status_code == 400 and "主机名" in r.get_json()["error"]


def test_request_from_another_site_refused(client):
    r = post(client, "/api/run", json={"action": "validate"}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "别的网站" in r.get_json()["error"]


def test_served_on_loopback_only(folders, user_home):
    app = create_app(TOKEN, 0, folders["work"], [folders["mine"]], home=False)
    server = make_server(app, 0)
    try:
        host, port = server.socket.getsockname()[:2]
        assert host == "127.0.0.1"
        assert server.effective_host == "127.0.0.1"
    finally:
        server.close()


def test_real_server_checks_host_and_token(folders, user_home):
    """The same checks through waitress on a real socket (what the browser meets)."""
    probe = make_server(create_app(TOKEN, 0, folders["work"], home=False), 0)
    port = probe.effective_port
    probe.close()
    server = make_server(create_app(TOKEN, port, folders["work"], [folders["mine"]], home=False), port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        def status(path, host):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers={"Host": host})
            r = conn.getresponse()
            body = r.read().decode("utf-8")
            conn.close()
            return r.status, body
        assert status(f"/?token={TOKEN}", f"127.0.0.1:{port}")[0] == 200
        assert status(f"/?token={TOKEN}", f"localhost:{port}")[0] == 200
        assert status("/", f"127.0.0.1:{port}")[0] == 403
        code, body = status(f"/?token={TOKEN}", f"evil.example:{port}")
        assert code == 400 and "主机名" in json.loads(body)["error"]
    finally:
        server.close()


# ------------------------------------------------------------ files

def test_upload_over_the_limit(client, folders):
    big = io.BytesIO(b"x" * (1024 * 1024 + 10))
    r = post(client, "/api/upload", data={"file": (big, "大台账.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 413
    assert "太大" in r.get_json()["error"] and "1MB" in r.get_json()["error"]
    assert not (folders["work"] / "上传").exists() or not any((folders["work"] / "上传").rglob("*.xlsx"))


def test_upload_stays_in_the_apps_folder(client, folders):
    """A file name with ../ cannot climb out of the upload folder; Chinese names are kept."""
    r = post(client, "/api/upload", content_type="multipart/form-data",
             data={"file": [(io.BytesIO(b"a"), "东山村.xlsx"), (io.BytesIO(b"b"), "x.xlsx")],
                   "relpath": ["台账/东山村.xlsx", "../../../逃出去.xlsx"]})
    assert r.status_code == 200, r.get_json()
    items = r.get_json()["items"]
    uploads = (folders["work"] / "上传").resolve()
    assert [i["name"] for i in items] == ["台账", "逃出去.xlsx"]
    assert items[0]["kind"] == "dir"
    for i in items:
        assert uploads in Path(i["path"]).parents
    assert not (folders["work"].parent / "逃出去.xlsx").exists()


def test_upload_that_cannot_be_saved_is_a_chinese_line(client, folders):
    """A name the disk will not take (300 bytes: too long for a file name) is
    one Chinese line naming the file, not an internal error."""
    long_name = "东山村" * 30 + ".xlsx"
    r = post(client, "/api/upload", content_type="multipart/form-data",
             data={"file": [(io.BytesIO(b"a"), long_name)], "relpath": [long_name]})
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"].startswith("无法保存上传的文件") and "内部错误" not in r.get_json()["error"]


def test_open_starts_only_workbooks_pdfs_and_folders(client, folders, monkeypatch):
    """打开 hands the file to the system (os.startfile on Windows): a workbook,
    a PDF, a picture or a folder; never a program or script in the user's folders."""
    from yibao.app import server
    opened = []
    monkeypatch.setattr(server, "_open_with_system", opened.append)
    for name in ("setup.exe", "run.bat", "x.vbs", "link.lnk"):
        (folders["mine"] / name).write_bytes(b"MZ")
        r = post(client, "/api/open", json={"path": str(folders["mine"] / name)})
        assert r.status_code == 403 and "只能打开" in r.get_json()["error"], name
    (folders["mine"] / "东山村.xlsx").write_bytes(b"x")
    for path in (folders["mine"] / "东山村.xlsx", folders["mine"]):
        assert post(client, "/api/open", json={"path": str(path)}).status_code == 200
    assert opened == [(folders["mine"] / "东山村.xlsx").resolve(), folders["mine"].resolve()]


def test_paths_outside_the_allowed_folders_refused(client, folders):
    folders["outside"].mkdir()
    secret = folders["outside"] / "别人的台账.xlsx"
    secret.write_bytes(b"secret")
    for path in (str(secret), str(folders["mine"] / ".." / "别处" / "别人的台账.xlsx"), "/etc/passwd"):
        for r in (get(client, f"/api/browse?path={path}"), get(client, f"/file?path={path}"),
                  post(client, "/api/open", json={"path": path}),
                  post(client, "/api/run", json={"action": "refresh", "values": {"files": [path]}})):
            assert r.status_code == 403, (path, r.status_code)
            assert "不在允许使用的文件夹中" in r.get_json()["error"]
    assert get(client, "/api/browse?path=台账.xlsx").status_code == 403     # relative: where would it be?
    listing = get(client, f"/api/browse?path={folders['mine']}").get_json()
    assert listing["kind"] == "dir" and listing["up"] is None    # cannot climb above an allowed folder


def test_output_name_cannot_leave_the_results_folder(folders):
    action = app_actions.actions()["dedupe"]
    argv = app_actions.argv(action, {"lists": ["a.xlsx"], "output": "../../../etc/结果"}, None, folders["work"] / "结果")
    out = Path(argv[argv.index("--output") + 1])
    assert out == folders["work"] / "结果" / "结果.xlsx"


# ------------------------------------------------------------ forms from the parsers

def test_every_ribbon_button_is_on_the_page():
    from yibao.macros.ribbon import ACTIONS
    page = app_actions.actions()
    for action_id, (_module, label) in ACTIONS.items():
        assert page[action_id].label == label
    # the reconciliation commands too, where present, with no page code of their own
    from yibao.macros.commands import ACTION_MODULES
    from yibao.cli import build_parser
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in ACTION_MODULES:
        assert (name in page) == (name in commands)


@pytest.mark.parametrize("action_id, values, plan, typed", [
    ("validate", {"files": ["/d/东山村.xlsx", "/d/西河村.xlsx"], "roster": ["/r/名单.xlsx"], "no_mark": True},
     "shili-2026", "validate /d/东山村.xlsx /d/西河村.xlsx --roster /r/名单.xlsx --no-mark --policy shili-2026"),
    ("quota", {"file": ["/d/任务分配表.xlsx"], "ledgers": ["/d/a.xlsx", "/d/b.xlsx"], "fix": "东山村=30；西河村=20",
               "total": "900"}, None,
     "quota /d/任务分配表.xlsx /d/a.xlsx /d/b.xlsx --fix 东山村=30 --fix 西河村=20 --total 900"),
    ("notice", {"file": ["/d/东山村.xlsx"], "others": ["/d/a.xlsx", "/d/b.xlsx"], "village": "东山村"}, None,
     "notice /d/东山村.xlsx --others /d/a.xlsx /d/b.xlsx --village 东山村"),
    ("progress", {"file": ["/d/t.xlsx"], "ledgers": ["/d/a.xlsx"], "date": "2025-12-31"}, None,
     "progress /d/t.xlsx /d/a.xlsx --date 2025-12-31"),
])
def test_page_builds_the_command_line(action_id, values, plan, typed):
    """The page's answers parse to exactly what the typed command parses to."""
    from yibao.cli import build_parser
    argv = app_actions.argv(app_actions.actions()[action_id], values, plan, Path("/结果"))
    assert vars(build_parser().parse_args(argv)) == vars(build_parser().parse_args(typed.split()))


def test_output_into_the_results_folder():
    page = app_actions.actions()
    # 新建台账 would write into the working folder, 缴费比对 beside the export: the page puts them in 结果
    argv = app_actions.argv(page["new_ledger"], {"village": "东山村"}, "shili-2026", Path("/结果"))
    assert argv[argv.index("--output") + 1] == str(Path("/结果/东山村参保缴费台账.xlsx"))
    argv = app_actions.argv(page["reconcile"], {"export": ["/d/e.csv"], "ledgers": ["/d/a.xlsx"]}, None, Path("/结果"))
    assert argv[argv.index("--output") + 1] == str(Path("/结果/缴费比对结果.xlsx"))
    # 进度通报 without a name writes its sheet into the task workbook, as the command does
    argv = app_actions.argv(page["progress"], {"file": ["/d/t.xlsx"], "ledgers": []}, None, Path("/结果"))
    assert "--output" not in argv


def test_output_labels_do_not_promise_the_commands_default_place():
    """缴费比对's -o says "默认导出文件旁…" on the command line; the page writes into
    its results folder, so its label does not say otherwise."""
    for action in app_actions.actions().values():
        for f in action.fields:
            if f.kind == "outdir" or f.kind == "output" and not f.inplace:
                assert "旁" not in f.label and "默认" not in f.label, (action.id, f.label)


def test_missing_inputs_in_chinese(client):
    r = post(client, "/api/run", json={"action": "validate", "values": {}})
    assert r.status_code == 400 and r.get_json()["error"].startswith("请先选择：台账文件")
    r = post(client, "/api/run", json={"action": "new_ledger", "values": {"village": "东山村"}})
    assert r.status_code == 400 and "选择方案" in r.get_json()["error"]


# ------------------------------------------------------------ running

def test_corrupt_ledger_message_and_nothing_written(client, folders):
    bad = folders["mine"] / "坏台账.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a workbook")
    before = sorted(folders["mine"].iterdir())
    job = post(client, "/api/run", json={"action": "validate", "values": {"files": [str(bad)]}}).get_json()
    done = wait(client, job)
    assert done["state"] == "failed" and done["code"] == 2
    assert done["line"].startswith("错误：") and "坏台账.xlsx" in done["line"]
    assert "Traceback" not in json.dumps(done, ensure_ascii=False)
    assert bad.read_bytes() == b"PK\x03\x04 this is not a workbook"
    assert sorted(folders["mine"].iterdir()) == before and done["files"] == []


def test_two_jobs_at_once_keep_their_own_lines():
    """Each job's output goes to its own card, however the threads interleave."""
    from yibao.app.jobs import Runner
    runner = Runner()
    jobs = [runner.start("show", "方案", ["policy", "show", pid], []) for pid in
            ("shili-2026", "xinqiao-2021", "xxzhen-2020", "zaozhuang-2022")]
    for _ in range(600):
        if all(j.state != "running" for j in jobs):
            break
        time.sleep(0.05)
    for job, pid in zip(jobs, ("shili-2026", "xinqiao-2021", "xxzhen-2020", "zaozhuang-2022")):
        assert job.code == 0
        text = "".join(job.out)
        assert text.splitlines()[0].endswith(f"（{pid}）")
        assert text.count("缴费期（按顺序匹配）") == 1     # no other job's lines mixed in


def test_same_file_twice_refused(folders):
    from yibao.app.jobs import Runner
    from yibao.cli import UserError
    runner = Runner()
    ledger = folders["mine"] / "东山村.xlsx"
    runner.busy[ledger.resolve()] = "1"
    with pytest.raises(UserError, match="正在被另一项操作使用"):
        runner.start("refresh", "刷新", ["refresh", str(ledger)], [ledger])


def test_argparse_error_shown_not_exited():
    from yibao.app.jobs import Runner
    job = Runner().start("quota", "任务分配", ["quota", "--total", "很多", "x.xlsx"], [])
    for _ in range(200):
        if job.state != "running":
            break
        time.sleep(0.05)
    assert job.code == 2 and job.line() == "错误：参数 --total 应为整数，而不是“很多”（用 yibao quota -h 查看用法）"


# ------------------------------------------------------------ shortcut

def test_shortcut_script_finds_the_real_desktop():
    text = shortcut.script(r"C:\Users\张三\AppData\Local\Programs\Python\Python312\python.exe")
    assert "[Environment]::GetFolderPath('Desktop')" in text      # not %USERPROFILE%\Desktop: OneDrive, redirected
    assert "'医保征缴助手.lnk'" in text and "WScript.Shell" in text
    assert r"$s.TargetPath = 'C:\Users\张三\AppData\Local\Programs\Python\Python312\python.exe'" in text
    assert "$s.Arguments = '-m yibao app'" in text
    with_folder = shortcut.script("python.exe", [Path("/d/医保 练习")])
    assert f"$s.Arguments = '-m yibao app \"{Path('/d/医保 练习')}\"'" in with_folder
    # a quote in a user name cannot end the string
    assert "'C:\\Users\\O''Brien\\python.exe'" in shortcut.script("C:\\Users\\O'Brien\\python.exe")
    cmd = shortcut.command(text)
    assert cmd[:2] == ["powershell.exe", "-NoProfile"] and cmd[-2] == "-EncodedCommand"
    assert base64.b64decode(cmd[-1]).decode("utf-16-le") == text    # Chinese survives any code page


def test_shortcut_elsewhere_is_a_chinese_line(capsys, monkeypatch):
    from yibao.cli import main
    monkeypatch.setattr("sys.platform", "linux")
    assert main(["app", "--shortcut"]) == 2
    assert capsys.readouterr().err.strip() == "错误：桌面快捷方式只用于Windows；在这台电脑上请直接运行：yibao app"


def test_progress_bar_of_the_command_reaches_the_page(tmp_path):
    """The command line's Bar (drawn only on a terminal) feeds the page's progress bar."""
    import shutil
    from yibao.app.jobs import Runner
    ledger = tmp_path / "东山村.xlsx"
    shutil.copyfile(Path(__file__).resolve().parent.parent / "examples" / "示例镇" / "台账" / "东山村.xlsx", ledger)
    job = Runner().start("validate", "校验", ["validate", str(ledger)], [ledger])
    for _ in range(600):
        if job.state != "running":
            break
        time.sleep(0.1)
    assert job.code == 0, job.line()
    assert job.stage == "校验" and job.progress == 1.0
    assert job.line().startswith("共检查") and "\r" not in "".join(job.out + job.err)


def test_folder_given_as_the_command_takes_it(client, folders):
    """--lists takes a folder itself (dept lists in it are skipped with a note);
    the ledgers box lists a folder's workbooks, as 台账/*.xlsx would, less backups."""
    lists = folders["mine"] / "部门名单"
    lists.mkdir()
    (lists / "死亡人员名单.xlsx").write_bytes(b"x")
    ledgers = folders["mine"] / "台账"
    ledgers.mkdir()
    for name in ("东山村.xlsx", "西河村.xlsx", "东山村.备份-20261123-101500.xlsx", "~$西河村.xlsx", "说明.docx"):
        (ledgers / name).write_bytes(b"x")
    job = post(client, "/api/run", json={"action": "validate", "values": {"files": [str(ledgers)], "lists": [str(lists)]}})
    import shlex
    command = shlex.split(wait(client, job.get_json())["command"])
    assert command == ["yibao", "validate", "--lists", str(lists), "--",
                       str(ledgers / "东山村.xlsx"), str(ledgers / "西河村.xlsx")]


def _village_list(path: Path) -> Path:
    """A small list with a 村 column (fictional people), as 分村下发 takes."""
    import datetime
    import random
    import openpyxl
    from yibao.synth import fictional_id
    rng, used = random.Random(15), set()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "催缴名单"
    ws.append(["村", "姓名", "身份证号"])
    for village, name in (("东山村", "张三"), ("东山村", "李四"), ("西河村", "王五")):
        ws.append([village, name, fictional_id(rng, datetime.date(1980, 1, 1), used)])
    wb.save(path)
    return path


def test_split_writes_into_the_results_folder_only(client, folders):
    """分村下发's --out is a folder: the page never lets it name one outside
    the results folder, and the village workbooks are listed to download."""
    listed = _village_list(folders["mine"] / "催缴名单.xlsx")
    outside = folders["outside"] / "分村"
    for out in (str(outside), "../../别处/分村", ""):
        job = post(client, "/api/run", json={"action": "split", "values": {"list": [str(listed)], "out": out}})
        assert job.status_code == 200, job.get_json()
        done = wait(client, job.get_json())
        assert done["state"] == "done", done["line"]
        names = sorted(f["name"] for f in done["files"])
        assert names == ["东山村.xlsx", "西河村.xlsx"], (out, done["line"])
        results = (folders["work"] / "结果").resolve()
        assert all(results in Path(f["path"]).parents for f in done["files"])
    assert not folders["outside"].exists()
    assert sorted(p.name for p in folders["mine"].iterdir()) == ["催缴名单.xlsx"]


def test_every_file_an_action_reads_is_a_checked_file(client, folders):
    """应参未参's payment export and 异地参保登记表 are file boxes like the rest:
    a path outside the allowed folders is refused, not passed on unchecked;
    and an option with two spellings (--deaths, --deceased) is one box."""
    page = app_actions.actions()
    kinds = {f.dest: f.kind for f in page["uninsured"].fields}
    assert kinds["export"] == "file" and kinds["elsewhere"] == "files"
    for action in page.values():
        dests = [f.dest for f in action.fields]
        assert len(dests) == len(set(dests)), (action.id, dests)
    roster = folders["mine"] / "户籍人口名单.xlsx"
    roster.write_bytes(b"x")
    for dest in ("export", "elsewhere"):
        r = post(client, "/api/run", json={"action": "uninsured", "values": {
            "roster": [str(roster)], "ledgers": [str(roster)], dest: ["/etc/passwd"]}})
        assert r.status_code == 403 and "不在允许使用的文件夹中" in r.get_json()["error"]


def test_pdf_printed_beside_the_workbook_is_listed(client, folders):
    """汇总上报 without a file name writes into the task workbook and prints
    its PDF beside it: the page lists the PDF to open or save (and no backup)."""
    import shutil
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice is not installed")
    example = Path(__file__).resolve().parent.parent / "examples" / "示例镇"
    town = folders["mine"] / "示例镇"
    shutil.copytree(example / "台账", town / "台账")
    shutil.copy2(example / "任务分配表.xlsx", town)
    job = post(client, "/api/run", json={"action": "summary", "values": {
        "file": [str(town / "任务分配表.xlsx")], "ledgers": [str(town / "台账")]}})
    done = wait(client, job.get_json())
    assert done["state"] == "done", done["line"]
    assert [f["name"] for f in done["files"]] == ["任务分配表.xlsx", "任务分配表-汇总上报.pdf"]
    assert [f["changed"] for f in done["files"]] == [True, False]


def test_plan_is_one_of_the_listed_plans(client, folders):
    """The plan box offers the plans `yibao policy list` shows; a request
    naming a file instead (the command would read it as a plan) is refused."""
    outside = folders["outside"]
    outside.mkdir()
    (outside / "方案.toml").write_text("id = 'x'\n", encoding="utf-8")
    for plan in ("../../etc/passwd", str(outside / "方案.toml")):
        r = post(client, "/api/run", json={"action": "new_ledger", "plan": plan, "values": {"village": "东山村"}})
        assert r.status_code == 400 and r.get_json()["error"].startswith("没有这个方案"), plan
    assert not (folders["work"] / "结果").exists() or not any((folders["work"] / "结果").iterdir())
    r = post(client, "/api/run", json={"action": "new_ledger", "plan": "shili-2026", "values": {"village": "东山村"}})
    assert wait(client, r.get_json())["state"] == "done"


@pytest.mark.parametrize("body", [{"action": ["validate"]}, {"action": "validate", "values": [1, 2]}, [1],
                                  {"action": "new_ledger", "plan": ["shili-2026"]}])
def test_malformed_request_is_a_chinese_line(client, body):
    r = post(client, "/api/run", json=body)
    assert r.status_code == 400 and re.fullmatch(r"[^A-Za-z]+", r.get_json()["error"]), r.get_json()


def test_unknown_address_is_a_chinese_line(client):
    r = get(client, "/api/jobs/999")
    text = r.get_json()["error"]
    assert r.status_code == 404 and re.fullmatch(r"[^A-Za-z]+", text.replace("yibao app", "")), text


def test_page_assets_ship_in_the_wheel():
    """Every file the page loads is package data (no Node build, no CDN)."""
    import fnmatch
    try:
        import tomllib
    except ImportError:
        import tomli as tomllib
    root = Path(__file__).resolve().parent.parent
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "yibao.app" in data["packages"]
    globs = data["package-data"]["yibao.app"]
    app = root / "cli" / "app"
    assets = [p.relative_to(app).as_posix() for p in app.rglob("*") if p.is_file()
              and p.suffix not in (".py", ".pyc")]
    assert {"static/app.js", "static/app.css", "templates/index.html"} <= set(assets)
    for asset in assets:
        assert any(fnmatch.fnmatch(asset, g) for g in globs), asset
    page = (app / "templates" / "index.html").read_text(encoding="utf-8") + (app / "static" / "app.js").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "//cdn" not in page


def test_yibao_app_command_serves_the_page(tmp_path, user_home):
    """`yibao app` as a user starts it: one line with the address (127.0.0.1
    and a token), the page behind it, nothing without the token."""
    import os
    import subprocess
    import sys
    import urllib.error
    import urllib.request
    env = dict(os.environ, YIBAO_HOME=str(user_home), PYTHONIOENCODING="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "yibao", "app", str(tmp_path), "--no-browser",
                             "--workdir", str(tmp_path / "助手")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8", env=env)
    try:
        first = proc.stdout.readline()
        m = re.search(r"医保征缴助手已启动：(http://127\.0\.0\.1:(\d+)/\?token=([\w-]{20,}))", first)
        assert m, first + proc.stderr.read() if proc.poll() is not None else first
        url, port = m.group(1), m.group(2)
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.status == 200 and "医保征缴助手" in r.read().decode("utf-8")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
        assert refused.value.code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=10)
