"""Domain rules (pure, no workbook access) and the Excel functions (UDFs).

Modules, one concern each:

- ``idno``       GB 11643 resident ID numbers (身份证号)
- ``values``     money in integer fen and dates from Excel cells or text
- ``identity``   normalizing identity names departments write (低保户 → 低保对象)
- ``plan``       loading and checking a county's plan file (工作方案 as data)
- ``engine``     what a person pays, which subsidy, who funds it, benefit start
- ``udf``        the Excel functions =PAYABLE() etc. and their registry
"""
