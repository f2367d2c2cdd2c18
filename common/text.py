"""How free text is compared: one function for the leads tables and the scoring engine."""

from __future__ import annotations

import unicodedata


def match_key(text: str) -> str:
    """The form in which text is compared: NFKC, case-folded, single spaces, trimmed.

    So ``"ＤＩＲＥＣＴＯＲ"``, ``"Director"`` and ``" director "`` all match ``"director"``.
    Ingestion stores it next to the raw values (``Activity.url_key`` …) and the
    scoring engine compares rule text in the same form.
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
