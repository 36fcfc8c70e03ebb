"""The official ledger templates: the seed plans' forms as Excel workbooks
with live validation (yibao template list / new).

- :mod:`.spec`: every form as data (the one source of truth);
- :mod:`.content`: what a plan puts into a form (titles, lists, dates);
- :mod:`.native`: the native Excel formulas (check digit, duplicates);
- :mod:`.builder`: the only openpyxl code; builds and writes ``.xlsx``;
- :mod:`.cli`: the ``template`` subcommand.

Built files for the four seed plans are committed under ``built/<plan>/``.
"""

from .spec import FORMS, FORM_IDS, form

__all__ = ["FORMS", "FORM_IDS", "form"]
