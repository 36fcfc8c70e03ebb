"""Write a large synthetic ledger (.xlsx) in the 002 台账 layout, fast
(openpyxl write-only), for the action benchmarks."""
from __future__ import annotations

import datetime
import random
import sys
from pathlib import Path

from openpyxl import Workbook

from yibao.functions import engine, plan as plans

sys.path.insert(0, str(Path(__file__).parent))
from synth import fictional_id  # noqa: E402

HEADER = ["序号", "家庭编号", "姓名*", "户主关系*", "性别*", "身份证号*", "告知、督促方式", "个人缴费*",
          "未缴费原因*", "参保人签字*", "身份类别", "缴费日期", "缴库日期", "应缴", "资助类别", "待遇起始", "校验"]
IDENTITIES = ["", "", "", "", "", "", "低保户", "特困人员", "一二级残疾人", "边缘户", "建档立卡贫困户", "低保户；边缘户"]
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"


def make(path: Path, rows: int, seed: int = 5, policy: str = "xinqiao-2021", formulas: bool = False,
         template: bool = False, village: str = "示例村", identities: list[str] = IDENTITIES,
         people: list | None = None):
    """``formulas``: a native check-digit formula in 校验 (for LibreOffice);
    ``template``: our ledger template's formulas in every computed cell, as a
    ledger made from it has them, with ~1% of 应缴 typed over by hand;
    ``village``: the 填报单位 line's village; ``identities``: drawn from for
    身份类别 ("" for none); ``people``: gets (true ID number, name, PAYABLE
    fen or None, pay date) for every row (the ID as written may have a wrong
    check digit), for an export of who paid."""
    rng = random.Random(seed)
    plan = plans.load(policy)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.append(["衡山县2021年度城乡居民医保参保缴费台账"])
    ws.append([f"填报单位：新桥镇 {village}", None, None, None, None, None, "方案编号", policy])
    ws.append(HEADER)
    start = datetime.date(2020, 9, 20)
    for i in range(rows):
        born = datetime.date(rng.randrange(1930, 2020), rng.randrange(1, 13), rng.randrange(1, 29))
        number = true_number = fictional_id(rng, born)
        if rng.random() < 0.002:
            number = number[:-1] + ("0" if number[-1] != "0" else "1")
        identity = rng.choice(identities)
        pay = start + datetime.timedelta(days=rng.randrange(0, 100))
        # mistakes at the rates staff make them: ~1% late deposits, ~1% wrong amounts
        deposit = pay + datetime.timedelta(days=rng.choices([0, 1, 5], weights=[90, 9, 1])[0])
        result = engine.compute(plan, engine.Person(number, tuple(x for x in identity.split("；") if x), pay))
        paid = int(result.payable // 100) if result.ok else None
        if paid is not None and rng.random() < 0.01:
            paid = 280 - paid or 280
        gender = "男" if int(number[16]) % 2 else "女"
        if rng.random() < 0.003:
            gender = "女" if gender == "男" else "男"
        r = i + 4
        name = rng.choice(SURNAMES) + "某"
        if people is not None:
            people.append((true_number, name, result.payable if result.ok else None, pay))
        row = [i + 1, f"{i // 4:06d}", name, "户主" if i % 4 == 0 else "子女", gender,
               number, "上门告知", paid, None, None, identity, pay.isoformat(), deposit.isoformat()]
        if formulas:
            # the native check a WPS / LibreOffice user leans on (no add-in)
            check = (f'=IF(MID("10X98765432",MOD(SUMPRODUCT(--MID(F{r},ROW($1:$17),1),'
                     f'{{7;9;10;5;8;4;2;1;6;3;7;9;10;5;8;4;2}}),11)+1,1)=RIGHT(F{r}),"","校验位错误")')
            row += [None, None, None, check]
        elif template:
            args = f'F{r},K{r},L{r},,,,"{policy}"'
            row += [f"=PAYABLE({args})", f"=SUBSIDY_TIER({args})", f"=BENEFIT_START({args})", f"=ID_CHECK(F{r})"]
            if rng.random() < 0.01:
                row[13] = paid if paid is not None else 0
        ws.append(row)
    wb.save(path)
    return path


if __name__ == "__main__":
    make(Path(sys.argv[1]), int(sys.argv[2]))
