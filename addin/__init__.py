"""The Excel add-in shell: what xlwings imports inside Excel.

xlwings' ``UDF_MODULES`` setting points at ``yibao.addin.udfs``, which only
re-exports the registered functions of :mod:`yibao.functions.udf`.
"""
