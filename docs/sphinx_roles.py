"""MkDocs hook: render the Sphinx cross-reference roles of the package's docstrings as code.

The docstrings say ``:class:`ApifyRunTrigger``` and ``:meth:`~pkg.Class.method```; mkdocstrings
renders the code span but leaves the role's name in front of it (":class:ApifyRunTrigger"). This
drops the role and, as Sphinx does for a leading ``~``, shows only the last part of the dotted name.
"""

from __future__ import annotations

import re

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj|const):<code>(~?)([^<]*)</code>")


def _code(match: re.Match[str]) -> str:
    tilde, name = match.groups()
    return f"<code>{name.rsplit('.', 1)[-1] if tilde else name}</code>"


def on_page_content(html: str, **kwargs: object) -> str:
    return _ROLE.sub(_code, html)
