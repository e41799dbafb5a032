"""The locked Excel template, rendered from a format (depends on ``formats`` only):
writer.py (xlsxwriter), formulas.py (live checks), protection.py (Excel's locks)."""
