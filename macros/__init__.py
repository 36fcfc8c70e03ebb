"""Ribbon actions (validate, refresh, dedupe, quota, ...): one function each,
working against a small workbook interface. Filled in by the ribbon-actions
work; the package exists now so the layout is fixed."""
