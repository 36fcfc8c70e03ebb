"""``yibao app`` in a real browser: headless Chromium from Debian's
packages, driven by Playwright (pointed at the system browser; never
``playwright install``). The whole season on a copy of the example data,
a corrupt file, two actions at once, the token; and the screenshot in the
README and the staff guide (rewritten with YIBAO_WRITE_DOCS=1)."""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
DOCS_PICTURE = Path(__file__).resolve().parent.parent / "docs" / "images" / "app.png"
TOKEN = "browser-test-token-abcdefghijkl"
SLOW = 240_000      # ms: one action on a loaded CI machine (summary prints a PDF through LibreOffice)


def _need_browser():
    """CI installs Chromium (.ci/run): missing there is a failure, elsewhere a skip."""
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} 不存在（apt-get install chromium）"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "没有安装 playwright（pip install '.[test]'）"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"浏览器测试需要Chromium和Playwright：{problem}")
        pytest.skip(problem)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    """A copy of the example town (1000 persons) in a folder the page may use."""
    from yibao import synth
    root = tmp_path_factory.mktemp("医保练习")
    SHOT_DIR[:] = [root]
    synth.write(synth.town(1000), root / "示例镇")
    return root


@pytest.fixture(scope="module")
def server(town):
    from yibao.app.server import create_app, make_server
    saved = os.environ.get("YIBAO_HOME")
    os.environ["YIBAO_HOME"] = str(town / "yibao-home")
    probe = make_server(create_app(TOKEN, 0, town / "助手", home=False), 0)
    port = probe.effective_port
    probe.close()
    server = make_server(create_app(TOKEN, port, town / "助手", [town / "示例镇"], home=False), port)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.close()
    if saved is None:
        os.environ.pop("YIBAO_HOME", None)
    else:
        os.environ["YIBAO_HOME"] = saved


@pytest.fixture(scope="module")
def page(server):
    _need_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(30_000)
        page.requested = []
        page.on("request", lambda r: page.requested.append(r.url))
        page.goto(f"{server}/?token={TOKEN}")
        page.wait_for_selector("#buttons button[data-action=validate]")
        yield page
        browser.close()


def act(page, action, files=None, values=None, flags=(), plan=None, wait=True):
    """Do ``action`` from the page as a user would: its big button, the paths
    typed into each file box, the options, 开始; returns the new result card."""
    page.click(f"#buttons button[data-action={action}]")
    if plan is not None:
        page.select_option("#plan", plan)
    for box in page.locator("#form .field[data-kind^=file]").all():     # what earlier forms left: gone
        if box.get_attribute("data-dest") not in (files or {}):
            while box.locator(".chips li button").count():
                box.locator(".chips li button").first.click()
    for dest, paths in (files or {}).items():
        box = page.locator(f"#form .field[data-dest={dest}]")
        if not box.is_visible():
            page.click("#form details > summary")
        while box.locator(".chips li button").count():     # start from nothing remembered
            box.locator(".chips li button").first.click()
        for i, path in enumerate(paths, 1):
            box.locator("input.path").fill(str(path))
            box.locator("input.path").press("Enter")
            box.locator(".chips li").nth(i - 1).wait_for()
    for dest, text in (values or {}).items():
        field = page.locator(f"#form input[name={dest}]")
        if not field.is_visible():
            page.click("#form details > summary")
        field.fill(text)
    for dest in flags:
        field = page.locator(f"#form input[name={dest}]")
        if not field.is_visible():
            page.click("#form details > summary")
        field.check()
    before = page.locator("#jobs .job").count()
    page.click("#go")
    page.locator("#jobs .job").nth(before).wait_for()
    card = page.locator(f"#{page.locator('#jobs .job').first.get_attribute('id')}")
    if wait:
        finish(page, card)
    return card


def finish(page, card):
    job = card.get_attribute("id")
    page.locator(f"#{job}:not([data-state=running])").wait_for(timeout=SLOW)
    return page.locator(f"#{job}")


def line(card) -> str:
    return card.locator(".line").inner_text().strip()


def files_of(card) -> list[str]:
    return [x.strip() for x in card.locator(".files li strong").all_inner_texts()]


def results(town) -> list[Path]:
    folder = town / "助手" / "结果"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def ok(card):
    assert card.get_attribute("data-state") == "done", line(card)
    assert "line ok" in card.locator(".line").get_attribute("class")


# ------------------------------------------------------------ the season, in order

def test_new_ledger(page, town):
    card = act(page, "new_ledger", values={"village": "东山村"}, plan="shili-2026")
    ok(card)
    assert line(card).startswith("已生成“参保缴费台账”") and "shili-2026" in line(card)
    assert files_of(card) == ["东山村参保缴费台账.xlsx"]
    assert any(p.name == "东山村参保缴费台账.xlsx" for p in results(town))
    page.select_option("#plan", "")     # the rest take the plan from the files' 方案编号


def test_merge_subsidy_lists(page, town):
    card = act(page, "dedupe", files={"lists": [town / "示例镇" / "部门名单"]})
    ok(card)
    assert re.match(r"共读入\d+行、\d+人：确定资助\d+人", line(card)), line(card)
    assert files_of(card) == ["合并资助名单结果.xlsx"]


def roster(town) -> Path:
    return next(p for p in results(town) if p.name == "合并资助名单结果.xlsx")


def test_refresh_in_place_with_backup(page, town):
    ledgers = town / "示例镇" / "台账"
    card = act(page, "refresh", files={"files": [ledgers]})
    ok(card)
    from yibao import synth
    villages = [v for v, _ in synth.VILLAGES]
    assert sorted(files_of(card)) == sorted(f"{v}.xlsx" for v in villages)
    assert "原文件已更新" in card.locator(".files").inner_text()
    for v in villages:      # the command's backup beside each ledger, as on the command line
        assert len(list(ledgers.glob(f"{v}.备份-*.xlsx"))) == 1
    assert not list(ledgers.glob(".~yibao-lock*"))       # the app gives up the command's locks


def test_validate_shows_the_findings(page, town):
    source = town / "示例镇" / "部门名单"
    card = act(page, "validate", files={"files": [town / "示例镇" / "台账"], "roster": [roster(town)],
                                        "deceased": [source / "死亡人员名单.xlsx"],
                                        "employee": [source / "职工医保参保名单.xlsx"]})
    ok(card)
    m = re.match(r"共检查(\d+)行：错误(\d+)处，警告(\d+)处，提示(\d+)处", line(card))
    assert m and int(m.group(1)) == 1000, line(card)
    errors = int(m.group(2))
    table = card.locator("table.findings")
    assert f"发现的问题（{sum(map(int, m.groups()[1:]))}处" in card.inner_text()
    first = table.locator("tbody tr").first
    assert first.locator("td").nth(3).inner_text() == ("错误" if errors else "警告")
    assert re.fullmatch(r"参保缴费台账![A-Z]+\d+", first.locator("td.ref a").inner_text())
    # the deliberate bad ID number of 错误清单.md is among them, with its cell
    assert "身份证号校验位不对" in table.inner_text()
    show_all = card.locator("button.show-all")
    if show_all.count():
        show_all.click()
        assert table.locator("tbody tr:visible").count() == min(int(m.group(1)) and table.locator("tbody tr").count(), 500)
    _screenshot(page, card)


def test_reconcile(page, town):
    card = act(page, "reconcile", files={"export": [town / "示例镇" / "缴费导出" / "税务缴费明细.csv"],
                                         "ledgers": [town / "示例镇" / "台账"]})
    ok(card)
    assert line(card).startswith("比对导出") and "结果已写入" in line(card)
    assert files_of(card) == ["缴费比对结果.xlsx"]


def test_reconcile_platform_export(page, town):
    card = act(page, "reconcile", files={"export": [town / "示例镇" / "缴费导出" / "医保平台缴费明细.xlsx"],
                                         "ledgers": [town / "示例镇" / "台账"]})
    ok(card)
    assert line(card).startswith("比对导出") and "各类合计相符" in line(card)
    assert files_of(card) == ["缴费比对结果.xlsx"]


def test_renewal(page, town):
    card = act(page, "renewal", files={"last": [town / "示例镇" / "上年度台账"], "this": [town / "示例镇" / "台账"]})
    ok(card)
    assert line(card).startswith("去年台账") and "未续保（待催缴）" in line(card)
    assert files_of(card) == ["续保催缴结果.xlsx"]


def test_uninsured_and_its_register_stays_its_own(page, town):
    """应参未参 from the page; the 户籍人口名单 picked for it is not offered to
    公示名单 as its 合并后的资助名单 (both options are called --roster)."""
    example = DOCS_PICTURE.parents[2] / "examples" / "示例镇"
    for folder in ("户籍人口", "异地参保"):
        if not (town / "示例镇" / folder).exists():
            shutil.copytree(example / folder, town / "示例镇" / folder)
    register = town / "示例镇" / "户籍人口" / "户籍人口名单.xlsx"
    card = act(page, "uninsured", files={"roster": [register], "ledgers": [town / "示例镇" / "台账"],
                                         "elsewhere": [town / "示例镇" / "异地参保" / "异地参保登记表.xlsx"]})
    ok(card)
    assert line(card).startswith("户籍名单") and "应参未参" in line(card)
    assert files_of(card) == ["应参未参结果.xlsx"]
    page.click("#buttons button[data-action=notice]")
    assert "户籍人口名单" not in " ".join(page.locator("#form .field[data-dest=roster] .chips li").all_inner_texts())


def test_split_and_gather(page, town):
    """分村下发 of the reconciliation result: each village's workbook is listed
    to download, all in the results folder; 收回汇总 of them ties to the split."""
    listed = next(p for p in results(town) if p.name == "缴费比对结果.xlsx")
    card = act(page, "split", files={"list": [listed]})
    ok(card)
    assert "个村的核实表" in line(card) and "与原表相符" in line(card)
    made = files_of(card)
    assert "东山村.xlsx" in made and len(made) >= 4
    split = [p for p in results(town) if p.name in made and p.parent.name.endswith("-分村")]
    assert len(split) == len(made) and not (listed.parent / f"{listed.stem}-分村").exists()
    card = act(page, "gather", files={"returned": [split[0].parent]})
    ok(card)
    assert "与拆分时相符" in line(card)
    assert files_of(card) == ["收回汇总结果.xlsx"]


def test_quota(page, town):
    card = act(page, "quota", files={"file": [town / "示例镇" / "任务分配表.xlsx"]})
    ok(card)
    assert "最大余数法" in line(card) and "已写入“任务分配”工作表" in line(card)


def test_progress_chart(page, town):
    card = act(page, "progress", files={"file": [town / "示例镇" / "任务分配表.xlsx"],
                                        "ledgers": [town / "示例镇" / "台账"]}, values={"date": "2025-12-31"})
    ok(card)
    assert line(card).startswith("截至2025年12月31日，4个村（社区）参保")
    if shutil.which("soffice") and shutil.which("pdftoppm"):
        img = card.locator("img.chart")
        img.wait_for()
        for _ in range(100):
            if img.evaluate("i => i.complete"):
                break
            page.wait_for_timeout(100)
        assert img.evaluate("i => i.naturalWidth") > 400
    else:
        assert "村（社区）" in card.locator("table.progress").inner_text()


def test_reward(page, town):
    card = act(page, "reward", files={"file": [town / "示例镇" / "任务分配表.xlsx"],
                                      "ledgers": [town / "示例镇" / "台账"]})
    ok(card)
    assert "工作经费" in line(card) and "已写入“奖励测算”工作表" in line(card)


def test_summary(page, town):
    card = act(page, "summary", files={"file": [town / "示例镇" / "任务分配表.xlsx"],
                                       "ledgers": [town / "示例镇" / "台账"]},
               values={"output": "汇总上报"})
    ok(card)
    assert line(card).startswith("4个村（社区）参保") and "核对：台账1000人" in line(card)
    made = files_of(card)
    assert "汇总上报.xlsx" in made
    if shutil.which("soffice"):
        assert "汇总上报.pdf" in made


def test_notice(page, town):
    ledgers = town / "示例镇" / "台账"
    card = act(page, "notice", files={"file": [ledgers / "东山村.xlsx"]},
               values={"village": "东山村", "output": "公示名单-东山村"})
    ok(card)
    assert line(card).startswith("公示名单共") and "身份证号已脱敏" in line(card)
    assert files_of(card) == ["公示名单-东山村.xlsx"]


# ------------------------------------------------------------ what must not go wrong

def test_corrupt_file_message_and_nothing_written(page, town, tmp_path):
    bad = tmp_path / "坏台账.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    before = results(town)
    page.click("#buttons button[data-action=validate]")
    box = page.locator("#form .field[data-dest=files]")
    while box.locator(".chips li button").count():
        box.locator(".chips li button").first.click()
    box.locator("input.pick-files").set_input_files(str(bad))      # 选择文件: uploaded into the app's folder
    box.locator(".chips li").first.wait_for()
    assert box.locator(".chips li").count() == 1
    uploaded = next((town / "助手" / "上传").rglob("坏台账.xlsx"))
    before_uploads = sorted(p.name for p in uploaded.parent.iterdir())
    n = page.locator("#jobs .job").count()
    page.click("#go")
    page.locator("#jobs .job").nth(n).wait_for()
    card = finish(page, page.locator("#jobs .job").first)
    assert card.get_attribute("data-state") == "failed"
    assert line(card) == "错误：无法读取“坏台账.xlsx”：文件已损坏或不是Excel文件：请用Excel或WPS打开，另存为.xlsx后再试"
    assert "Traceback" not in page.inner_text("body")
    assert uploaded.read_bytes() == bad.read_bytes()
    assert sorted(p.name for p in uploaded.parent.iterdir()) == before_uploads
    assert results(town) == before and card.locator(".files").count() == 0


def test_two_actions_at_once(page, town):
    """公示名单 of one village and 校验 of another, the second started while the
    first runs: each card gets its own line."""
    ledgers = town / "示例镇" / "台账"
    first = act(page, "notice", files={"file": [ledgers / "南岭村.xlsx"]},
                values={"village": "南岭村", "output": "公示名单-南岭村"}, wait=False)
    second = act(page, "validate", files={"files": [ledgers / "西河村.xlsx"]}, wait=False)
    finish(page, first)
    finish(page, second)
    ok(first)
    ok(second)
    assert line(first).startswith("公示名单共") and "公示名单-南岭村.xlsx" in line(first)
    assert re.match(r"共检查\d+行", line(second)) and "公示" not in line(second)
    assert all(f.startswith("西河村") for f in second.locator("table.findings tbody tr td:first-child").all_inner_texts())


def test_drag_and_drop_a_ledger(page, town):
    """A ledger dragged into the box is copied into the app's own folder, byte
    for byte; 刷新 then updates that copy, never the file it came from."""
    import base64
    ledger = town / "未刷新" / "南岭村.xlsx"
    ledger.parent.mkdir()
    shutil.copyfile(DOCS_PICTURE.parents[2] / "examples" / "示例镇" / "台账" / "南岭村.xlsx", ledger)
    page.click("#buttons button[data-action=refresh]")
    box = page.locator("#form .field[data-dest=files]")
    while box.locator(".chips li button").count():
        box.locator(".chips li button").first.click()
    box.locator(".drop").evaluate("""(drop, data) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], "南岭村.xlsx"));
        drop.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }""", base64.b64encode(ledger.read_bytes()).decode("ascii"))
    box.locator(".chips li").first.wait_for()
    assert box.locator(".chips li").inner_text().startswith("南岭村.xlsx")
    copies = sorted((town / "助手" / "上传").rglob("南岭村.xlsx"), key=lambda p: p.stat().st_mtime)
    assert copies and copies[-1].read_bytes() == ledger.read_bytes()
    original = ledger.read_bytes()
    n = page.locator("#jobs .job").count()
    page.click("#go")
    page.locator("#jobs .job").nth(n).wait_for()
    card = finish(page, page.locator("#jobs .job").first)
    ok(card)
    assert files_of(card) == ["南岭村.xlsx"]
    assert "上传的副本已更新，您电脑上的原文件没有改动" in card.locator(".files").inner_text()
    assert ledger.read_bytes() == original


def test_browse_this_computer(page, town):
    """浏览本机文件: folders the page may use, a click on a ledger picks it; no way above them."""
    page.click("#buttons button[data-action=notice]")
    box = page.locator("#form .field[data-dest=file]")
    box.get_by_role("button", name="浏览本机文件").click()
    dialog = page.locator("#browser")
    dialog.locator(f'li.dir[title="{town / "示例镇" / "台账"}"]').click()     # not 上年度台账
    page.locator("#browse-path", has_text=re.compile(r"台账$")).wait_for()
    assert page.locator("#browse-up").is_enabled()
    dialog.locator("li.file", has_text="东山村.xlsx").click()
    dialog.wait_for(state="hidden")
    assert box.locator(".chips li").inner_text().startswith("东山村.xlsx")
    box.get_by_role("button", name="浏览本机文件").click()          # opens where it was
    assert page.locator("#browse-path").inner_text().endswith("台账")
    page.click("#browse-up")
    page.locator("#browse-path", has_text=re.compile(r"示例镇$")).wait_for()
    assert page.locator("#browse-path").inner_text() == str(town / "示例镇")
    assert page.locator("#browse-up").is_disabled()                 # the top of what the page may use
    dialog.get_by_role("button", name="关闭").click()


def test_reload_keeps_the_results(page):
    def shown():
        return list(zip(page.locator("#jobs .job h3").all_inner_texts(), page.locator("#jobs .job .line").all_inner_texts()))
    before = shown()
    page.reload()
    page.locator("#jobs .job").nth(len(before) - 1).wait_for()
    assert shown() == before and len(before) > 10


def test_nothing_leaves_the_machine(page, server):
    assert page.requested and all(u.startswith(server + "/") for u in page.requested)


def test_no_token_no_page(page, server):
    other = page.context.browser.new_page()
    try:
        response = other.goto(f"{server}/")
        assert response.status == 403 and "访问码" in other.inner_text("body")
    finally:
        other.close()


SHOT_DIR: list[Path] = []


def _screenshot(page, card):
    """The picture in README.md and the staff guide: the page after 校验."""
    page.evaluate("window.scrollTo(0, 0)")
    page.mouse.move(1270, 5)                  # no button under the pointer
    if page.locator("#form details[open] > summary").count():
        page.click("#form details > summary")   # the further options folded, as a user would
    height = min(page.evaluate("document.body.scrollHeight"), 1500)
    target = DOCS_PICTURE if os.environ.get("YIBAO_WRITE_DOCS") == "1" else SHOT_DIR[0] / "app.png"
    page.screenshot(path=str(target), clip={"x": 0, "y": 0, "width": 1280, "height": height}, full_page=True)
    from PIL import Image
    with Image.open(target) as shot:
        assert shot.size == (1280, height)
        if target != DOCS_PICTURE and DOCS_PICTURE.exists():
            with Image.open(DOCS_PICTURE) as committed:
                assert committed.size == shot.size      # the page's layout changed: rewrite the picture
