"""Spreadsheet cells that are text, never formulas (OWASP, "CSV Injection").

Titles and artists come from crawled sites: a title such as ``=HYPERLINK("http://evil", "click")``
written as is would be a live formula in the curator's Excel. OWASP's advice: a cell that begins
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote, so the
spreadsheet shows it as text. A value that already begins with a quote gets one more, so that the
import's one rule (drop one leading quote) gives back exactly what was exported.
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def neutralise(value):
    """The cell to write for ``value`` (only text is touched)."""
    if isinstance(value, str) and value.startswith((*FORMULA_TRIGGERS, ESCAPE)):
        return ESCAPE + value
    return value


def restore(value):
    """The value a neutralised cell stands for."""
    if isinstance(value, str) and value.startswith(ESCAPE):
        return value[1:]
    return value
