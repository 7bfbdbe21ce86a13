"""Card numbers are masked to their last four digits: grouped, spoken as words, or mixed."""

from __future__ import annotations

import pytest

from shared.pii.cards import find_card_number, luhn_ok, mask_cards, mask_cards_in


@pytest.mark.parametrize("text, expected", [
    ("my card is 4111 1111 1111 1111 exp 12/27", "my card is [card ending 1111] exp 12/27"),
    ("4111-1111-1111-1111", "[card ending 1111]"),
    ("Four one one one, one one one one, one one one one, one one one one.", "[card ending 1111]."),
    ("it's five five five five 5555 five five five five 4444", "it's [card ending 4444]"),
    ("amex 378282246310005 please", "amex [card ending 0005] please"),
    ("two cards 4242424242424242 and 5555555555554444", "two cards [card ending 4242] and [card ending 4444]"),
])
def test_card_numbers_are_masked_to_the_last_four(text, expected):
    assert mask_cards(text) == expected
    assert not find_card_number(mask_cards(text))


@pytest.mark.parametrize("text", [
    "call me at +1 303 555 0123 or (303) 555-0124",  # phone numbers
    "4111 1111 1111 1112",  # fails Luhn
    "at 1772470800000 ms",  # a unix time in milliseconds
    "order 41111111111111111111",  # 20 digits: an id, not a card
    "someone said four times",
    "CA0123456789abcdef0123456789abcdef",
])
def test_other_numbers_stay(text):
    assert mask_cards(text) == text
    assert not find_card_number(text)


def test_nested_values_are_masked_and_ints_are_found():
    value = {"notes": ["card 4111111111111111"], "n": 3, "ok": True}
    assert mask_cards_in(value) == {"notes": ["card [card ending 1111]"], "n": 3, "ok": True}
    assert find_card_number(4111111111111111) and not find_card_number(1772470800000)
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")
