"""yibao: Excel add-in and command line for 城乡居民基本医疗保险参保征缴.

The functional core lives in :mod:`yibao.functions` (rules take data and
return data); ribbon actions in :mod:`yibao.macros`; the Excel add-in shell in
:mod:`yibao.addin`; the command line in :mod:`yibao.cli`.
"""

__version__ = "0.1.0"
