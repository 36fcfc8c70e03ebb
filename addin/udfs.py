"""Entry module for xlwings (``UDF_MODULES = yibao.addin.udfs``).

Kept to re-exports so that what Excel imports is exactly the registry.
"""
from yibao.functions.udf import REGISTRY

globals().update({spec.name: spec.func for spec in REGISTRY.values()})
__all__ = [spec.name for spec in REGISTRY.values()]
