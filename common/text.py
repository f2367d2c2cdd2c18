"""How free text is compared: one function for the leads tables and the scoring engine."""

from __future__ import annotations

import json
import math
import re
import unicodedata


def match_key(text: str) -> str:
    """The form in which text is compared: NFKC, case-folded, single spaces, trimmed.

    So ``"ＤＩＲＥＣＴＯＲ"``, ``"Director"`` and ``" director "`` all match ``"director"``.
    Ingestion stores it next to the raw values (``Activity.url_key`` …) and the
    scoring engine compares rule text in the same form.
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?")


def property_text(value: object) -> str | None:
    """The match key of an activity property, for text comparisons; None if it has none.

    Text is its ``match_key``; a number (not a yes/no) is its JSON text, so
    ``30`` equals ``"30"`` but not ``"30.0"``. Anything else (a yes/no, a list,
    null) has no text. Ingestion stores these next to the row
    (``Activity.property_keys``) so that SQL compares what the engine compares.
    """
    if isinstance(value, str):
        return match_key(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return match_key(json.dumps(value))
    return None


def property_number(value: object) -> float | None:
    """An activity property as a number, for numeric comparisons; None if it is not one.

    A JSON number, or text that is a decimal number once NFKC-normalised
    (``"３０"``, ``" 30 "``, ``"1e3"``); never a yes/no, never infinite or NaN.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an int beyond a double's range
            return None
    elif isinstance(value, str):
        text = match_key(value)
        if len(text) > 64 or not _NUMBER.fullmatch(text):
            return None
        number = float(text)
    else:
        return None
    return number if math.isfinite(number) else None
