"""Every command in the documentation runs, every link and picture exists.

Which docs: README.md, docs/guide/*.md and docs/developers.md.

Commands. Fenced blocks marked ```bash are run line by line with bash, in
order, in one fresh temporary folder per document into which examples/示例镇
has been copied (a reader follows a guide from top to bottom in one folder, so
later blocks may use files that earlier ones made). ``yibao`` is the real
executable of this environment (its folder is put first on PATH) and
YIBAO_HOME points into the temporary folder, so ``yibao policy new/use`` never
touch the real user plan folder. Each line must exit with 0, or with N when the
line carries the comment ``# 退出码 N``.

Skipped, by these rules only:
- blank lines and comment lines;
- a line carrying the comment ``# 不在测试中运行`` (needs Windows and Excel, or
  installs system packages);
- in a line joined with ``&&``, the parts that set up an environment
  (``python3 -m venv``, ``. .venv/bin/activate``, ``pip install``): the test runs
  in the environment that is already installed, so ``pip install . && yibao demo``
  runs ``yibao demo``;
- ``python -m pytest -q`` with no file arguments (the whole suite, which
  contains this test). Instead, test_readme_test_command_is_ci checks that the
  README's test command is the one .ci/run runs.

Files. A fence whose info string names a file after the language
(```jsonl 试算.jsonl) is content the reader saves under that name; the test
writes it into the folder at that point.

Outputs. A fence marked ```output right after a bash block lists lines that
must appear in what that block printed (``…`` stands for any text).

Messages. The "common problems" tables quote error messages; MESSAGES and
PLAN_ERRORS below produce each one for real and check that the guide quotes it
word for word.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "示例镇"
YIBAO = Path(sys.executable).parent / "yibao"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs" / "guide").glob("*.md")), ROOT / "docs" / "developers.md"]
TOWN_GUIDE = ROOT / "docs" / "guide" / "乡镇专干使用指南.md"
PLAN_GUIDE = ROOT / "docs" / "guide" / "方案文件编写指南.md"

NOT_RUN = "# 不在测试中运行"
EXIT = re.compile(r"#\s*退出码\s*(\d+)")
SETUP = re.compile(r"^\s*(python3? -m venv\b|\.\s+\S*activate\b|source\s+\S*activate\b|(python3? -m )?pip install\b)")
WHOLE_SUITE = re.compile(r"^\s*python3? -m pytest -q\s*$")


def fences(text: str) -> list[tuple[str, int, list[str]]]:
    """(language, line number of the first content line, lines) for each fenced block;
    a file block (```jsonl 试算.jsonl) has the language "file:试算.jsonl"."""
    out, lang, start, body = [], None, 0, []
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^\s*```\s*([\w-]*)(?:\s+(\S+\.\w+))?\s*$", line)
        if m and lang is None:
            lang, start, body = (f"file:{m.group(2)}" if m.group(2) else m.group(1) or ""), n + 1, []
        elif m and lang is not None and not m.group(1) and not m.group(2):
            out.append((lang, start, body))
            lang = None
        elif lang is not None:
            body.append(line)
    assert lang is None, "unclosed fence"
    return out


def runnable(line: str) -> tuple[str | None, int]:
    """The part of a doc line the test runs (None: skipped) and its expected exit code."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#") or NOT_RUN in line:
        return None, 0
    m = EXIT.search(line)
    code = int(m.group(1)) if m else 0
    parts = [p for p in stripped.split("&&") if not SETUP.match(p)]
    parts = [p for p in parts if not WHOLE_SUITE.match(p)]
    if not parts:
        return None, code
    return "&&".join(parts).strip(), code


def blocks(doc: Path) -> list[tuple[int, list[str], list[str]]]:
    """(line number, bash lines, expected output lines) for each bash block of a doc;
    a file block becomes a block whose one line writes that file."""
    found = fences(doc.read_text(encoding="utf-8"))
    result = []
    for i, (lang, start, body) in enumerate(found):
        if lang.startswith("file:"):
            result.append((start, [("file", lang[5:], "\n".join(body) + "\n")], []))
            continue
        if lang != "bash":
            continue
        expected = []
        if i + 1 < len(found) and found[i + 1][0] == "output":
            expected = [l for l in found[i + 1][2] if l.strip()]
        result.append((start, body, expected))
    return result


def environment(home: Path) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{YIBAO.parent}{os.pathsep}{env.get('PATH', '')}"
    env["YIBAO_HOME"] = str(home)
    env.pop("YIBAO_POLICY", None)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(EXAMPLES, work / "示例镇")
    shutil.copytree(ROOT / "examples", work / "examples")  # README paths are relative to the checkout
    return work


def run_line(command: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=300)


def test_yibao_is_this_environment():
    assert YIBAO.exists(), YIBAO
    assert shutil.which("yibao", path=environment(Path("/nonexistent"))["PATH"]) == str(YIBAO)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_commands(doc: Path, tmp_path: Path):
    work = workdir(tmp_path)
    env = environment(tmp_path / "home")
    ran = 0
    for start, body, expected in blocks(doc):
        printed = []
        for k, line in enumerate(body):
            if isinstance(line, tuple):  # a file the doc asks the reader to save
                (work / line[1]).write_text(line[2], encoding="utf-8")
                continue
            command, code = runnable(line)
            if command is None:
                continue
            r = run_line(command, work, env)
            ran += 1
            where = f"{doc.name}:{start + k}: {command}"
            assert r.returncode == code, f"{where}\nexit {r.returncode}, expected {code}\n{r.stdout}\n{r.stderr}"
            printed.append(r.stdout + r.stderr)
        out = "\n".join(printed)
        for want in expected:
            pattern = ".*".join(re.escape(part) for part in want.strip().split("…"))
            assert re.search(pattern, out), f"{doc.name}:{start}: output lacks\n  {want.strip()}\ngot:\n{out}"
    assert ran, f"{doc.name} has no command to run"


def test_readme_test_command_is_ci():
    """The README's 'install and run the tests' line does what .ci/run does."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    ci_line = [l for l in ci.splitlines() if "pytest" in l and not l.lstrip().startswith("#")][-1]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [l for lang, _, body in fences(readme) if lang == "bash" for l in body if "pytest" in l]
    assert lines, "README has no test command"
    for line in lines:
        assert 'pip install ".[test]"' in line and "python -m pytest -q" in line, line
    assert 'pip install -q ".[test]"' in ci_line and "python -m pytest -q" in ci_line, ci_line


# ------------------------------------------------------------------ links

def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip().lower())
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    text = doc.read_text(encoding="utf-8")
    inside, names = False, set()
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            inside = not inside
        elif not inside and line.startswith("#"):
            names.add(slug(line.lstrip("#")))
    names.update(re.findall(r'<a id="([^"]+)"', text))
    return names


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_and_images_exist(doc: Path):
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.S)
    links = LINK.findall(text)
    assert links, f"{doc.name} links nowhere"
    for target in links:
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        assert file.exists(), f"{doc.name}: broken link {target}"
        if anchor and file.suffix == ".md":
            assert anchor in anchors(file), f"{doc.name}: no heading for #{anchor} in {file.name}"
    for image in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", text):
        assert Path(image).suffix in (".png", ".jpg", ".svg"), image


def test_docs_pictures_are_committed_pngs():
    for name in ("ribbon.png", "summary.png", "template-shili-2026-ledger.png"):
        png = ROOT / "docs" / "images" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


# ------------------------------------------------- the quoted error messages

LEDGERS = "示例镇/台账/东山村.xlsx"
#: (setup run first, command, exit code, message the town guide quotes)
MESSAGES = [
    ("touch '示例镇/台账/~$东山村.xlsx'", f"yibao refresh {LEDGERS}", 2,
     "错误：“东山村.xlsx”正被Excel或WPS打开，请先关闭再运行"),
    ("", "yibao validate 示例镇/台账/东山.xlsx", 2, "错误：找不到文件：示例镇/台账/东山.xlsx"),
    ("", f"yibao refresh {LEDGERS} --policy shili-2027", 2,
     "错误：没有名为“shili-2027”的方案。现有方案：shili-2025、shili-2026、shuangshui-2025、xinqiao-2021、xxzhen-2020、zaozhuang-2022"),
    ("yibao dedupe 示例镇/部门名单/民政.xlsx --policy shili-2026 -o 资助名单比对结果.xlsx",
     "yibao dedupe 示例镇/部门名单/民政.xlsx --policy shili-2026 -o 资助名单比对结果.xlsx", 2,
     "错误：资助名单比对结果.xlsx 已存在；要覆盖请加 --force（原文件会备份）"),
    ("yibao template new ledger --policy shili-2026 -o 东山村-新台账.xlsx",
     "yibao template new ledger --policy shili-2026 -o 东山村-新台账.xlsx", 2,
     "错误：东山村-新台账.xlsx 已存在；要覆盖请加 --force（原文件会备份为 .bak）"),
    ("", "yibao refresh 示例镇/任务分配表.xlsx", 2,
     "错误：台账中没有计算列（应缴、资助类别、待遇起始、校验等），无需刷新"),
    ("", "yibao summary 示例镇/任务分配表.xlsx --no-pdf -o 汇总.xlsx", 2,
     "错误：没有找到台账（需要“身份证号”列）：请把各村台账文件一并列出"),
    ("", "yibao reward 示例镇/任务分配表.xlsx --policy xinqiao-2021 -o 奖励.xlsx", 2,
     "错误：方案“新桥镇2021年度城乡居民基本医疗保险参保缴费工作方案”没有工作经费和奖励的规定"
     "（[work_fee]、[[reward]]、[deduction]），无需测算"),
    ("", "yibao quota 示例镇/任务分配表.xlsx --fix 东坡村=300 -o 分配.xlsx", 2,
     "错误：指定任务数的“东坡村”不在任务表中"),
    ("", "yibao reconcile 示例镇/台账/东山村.xlsx 示例镇/台账/西河村.xlsx", 2,
     "错误：“东山村.xlsx”是台账，不是缴费导出：第一个文件应是税务或医保信息平台导出的缴费明细，各村台账放在它后面"),
    ("cp 示例镇/台账/东山村.xlsx '示例镇/台账/东山村 - 副本.xlsx'",
     "yibao validate 示例镇/台账/东山村.xlsx '示例镇/台账/东山村 - 副本.xlsx'", 2,
     "错误：“东山村 - 副本.xlsx”是“东山村.xlsx”的副本（两个文件内容完全相同）：是否传入了同一台账的副本？"
     "请只校验其中一个；两个文件都未改动"),
]


@pytest.mark.parametrize("setup,command,code,message", MESSAGES, ids=[m[1].split()[1] for m in MESSAGES])
def test_town_guide_messages_are_real(setup, command, code, message, tmp_path):
    assert message in TOWN_GUIDE.read_text(encoding="utf-8"), f"the guide does not quote: {message}"
    work, env = workdir(tmp_path), environment(tmp_path / "home")
    if setup:
        assert run_line(setup, work, env).returncode == 0
    r = run_line(command, work, env)
    assert r.returncode == code, r.stdout + r.stderr
    assert message in r.stdout + r.stderr


#: (text in shili-2026.toml, replacement, message `yibao policy check` prints)
PLAN_ERRORS = [
    ('individual = "400"\n', 'individual = "400\n', "格式错误（TOML）：Illegal character '\\n' (at line"),
    ('"三四级残疾人", "低保对象", "脱贫人口",', '"三四级残疾人", "低报对象", "脱贫人口",',
     "[selection] 多重身份：order中的“低报对象”不是本方案的身份类别"),
    ('funding = { "医疗救助" = "200" }', 'funding = { "医疗救助" = "150" }',
     "[[category]] 第8项“低保对象”：funding 各来源金额合计150元，与资助金额200元不符"),
    ('funding = { "财政" = "100", "医疗救助" = "100" }', 'funding = { "财政" = "60%", "医疗救助" = "50%" }',
     "[[category]] 第9项“脱贫人口”：funding 各来源比例合计应为100%，现为110%"),
    ("end = 2026-02-28\namount", "end = 2025-02-28\namount",
     "[[rule]] 第3条“外出务工人员最迟2026年2月底”：缴费期开始2025-09-01晚于结束2025-02-28"),
    ('holds_any = ["外出务工人员"]\n', "",
     "[[rule]] 第3条“外出务工人员最迟2026年2月底”：与第2条“年度集中缴费”适用同一类人员，缴费期重叠（2025-09-01至2025-12-31）"),
    ('holds_any = ["外出务工人员"]', 'holds_any = ["外出务工"]',
     "[[rule]] 第3条“外出务工人员最迟2026年2月底”：holds_any中的“外出务工”不是本方案的身份类别"),
    ('benefit_from = "next_month"', 'benefit_from = "next month"',
     "[[rule]] 第5条“特殊情形一次性足额缴费”：benefit_from 为“next month”，只能是：year_start、pay_date、birth_date、next_month"),
    ('rule = "highest"', 'rule = "best"', "[selection] 多重身份：rule 为“best”，只能是：highest、order"),
    ('individual = "400"', 'individual = "四百"', "[fee] 缴费标准：individual：无法识别的金额“四百”"),
    ("start = 2025-09-01\nend = 2025-12-31\namount", "start = 2025-9-1\nend = 2025-12-31\namount",
     "格式错误（TOML）：Expected newline or end of document after a statement"),
]


@pytest.mark.parametrize("old,new,message", PLAN_ERRORS, ids=[m[2][:24] for m in PLAN_ERRORS])
def test_plan_guide_errors_are_real(old, new, message, tmp_path):
    guide = PLAN_GUIDE.read_text(encoding="utf-8")
    assert message in guide, f"the plan guide does not quote: {message}"
    text = (ROOT / "functions" / "plans" / "shili-2026.toml").read_text(encoding="utf-8")
    assert old in text, old
    broken = tmp_path / "坏方案.toml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    r = run_line(f"yibao policy check '{broken}'", tmp_path, environment(tmp_path / "home"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert message in r.stdout + r.stderr
