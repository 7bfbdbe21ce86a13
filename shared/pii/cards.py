"""Card numbers never reach our stores: any 13-19 digit sequence that passes the Luhn check is
masked to its last four digits before a text is written.

A caller may read a card number to the AI receptionist ("four one one one ...") or type or text
one, so the digits may be grouped (``4111 1111-1111.1111``), spoken as words (``zero``/``oh``
... ``nine``) or mixed. A run of digit tokens separated by spaces, hyphens, dots or commas is
checked window by window (whole tokens only): the longest window of 13-19 digits that passes
Luhn is replaced by ``[card ending 1234]``. A single run of more than 19 digits in one token is
an id, not a card, and stays. A bare 13-digit number starting with 1 is a unix time in
milliseconds (13-digit cards are Visa's and start with 4), and stays too, as in the log redactor.

:func:`mask_cards` masks a string; :func:`mask_cards_in` masks every string inside a JSON-like
value (dicts, lists); :func:`find_card_number` says whether a text still holds one (the model
validator of the billing record and the scan test use it).
"""

from __future__ import annotations

import re
from typing import Any

_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
          "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_TOKEN = r"(?:\d+|(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)(?![A-Za-z]))"
_SEP = r"[ \t\r\n,.\-]*"
_RUN = re.compile(rf"(?<![A-Za-z0-9]){_TOKEN}(?:{_SEP}{_TOKEN})*(?![A-Za-z0-9])", re.IGNORECASE)
_TOKENS = re.compile(_TOKEN, re.IGNORECASE)
MIN_DIGITS, MAX_DIGITS = 13, 19


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _is_card(digits: str) -> bool:
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return False
    if len(digits) == 13 and digits[0] == "1":
        return False
    return luhn_ok(digits)


def _card_windows(run: str) -> list[tuple[int, int, str]]:
    """(start, end, digits) of each card number inside one run of digit tokens (offsets in run)."""
    tokens = []
    for match in _TOKENS.finditer(run):
        text = match.group(0)
        word = _WORDS.get(text.lower())
        tokens.append((match.start(), match.end(), word if word is not None else text))
    found: list[tuple[int, int, str]] = []
    i = 0
    while i < len(tokens):
        best = None
        digits = ""
        for j in range(i, len(tokens)):
            digits += tokens[j][2]
            if len(digits) > MAX_DIGITS:
                break
            if _is_card(digits):
                best = (j, digits)
        if best is None:
            i += 1
            continue
        j, digits = best
        found.append((tokens[i][0], tokens[j][1], digits))
        i = j + 1
    return found


def mask_cards(text: str) -> str:
    """``text`` with every card number replaced by ``[card ending NNNN]``."""
    if not isinstance(text, str):
        return text
    out: list[str] = []
    last = 0
    for run in _RUN.finditer(text):
        for start, end, digits in _card_windows(run.group(0)):
            out.append(text[last:run.start() + start])
            out.append(f"[card ending {digits[-4:]}]")
            last = run.start() + end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def mask_cards_in(value: Any) -> Any:
    """Every string inside a JSON-like value masked (dict keys included); other values as they are."""
    if isinstance(value, str):
        return mask_cards(value)
    if isinstance(value, dict):
        return {mask_cards(k) if isinstance(k, str) else k: mask_cards_in(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_cards_in(v) for v in value)
    return value


def find_card_number(value: Any) -> bool:
    """True when ``value`` (a string, a number, or a JSON-like value) holds a card number."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return _is_card(str(abs(value)))
    if isinstance(value, str):
        return mask_cards(value) != value
    if isinstance(value, dict):
        return any(find_card_number(k) or find_card_number(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(find_card_number(v) for v in value)
    return False
