"""Quiet hours: US area code -> IANA time zones, and the 8 a.m. to 9 p.m. sending window.

Pure (no I/O, no phonenumbers import at run time). Decisions written down:

* The table was generated once from libphonenumber's time-zone data (``phonenumbers`` 9.0.43,
  Apache 2.0) for every NPA that libphonenumber considers a valid *US* geographic area code:
  the zones of all prefixes under the area code, unioned. Regenerate with the snippet at the
  bottom of this docstring when a new overlay appears; until then a new area code falls back
  to the business's own zone, which is where most of its callers live.
* An area code that spans several zones (208 Idaho, 605 South Dakota, 850 Florida ...) is
  allowed only when it is 8 a.m. to 9 p.m. in **every** one of its zones: we cannot know which
  side of the line the person lives on, so we take the window that is lawful on both.
* Toll-free and non-geographic codes (800, 833 ..., 500s, 900) and numbers outside the table
  use the tenant's zone (``fallback``).
* The window is local wall-clock time: 08:00 <= t < 21:00. DST needs no special case, since
  the transitions happen at 2 a.m., outside the window.

Regeneration::

    from collections import defaultdict; import phonenumbers
    from phonenumbers.tzdata import TIMEZONE_DATA
    for npa in range(200, 1000):
        n = phonenumbers.parse(f"+1{npa}5550142")  # (also try other exchanges)
        if phonenumbers.is_valid_number(n) and phonenumbers.region_code_for_number(n) == "US":
            zones = sorted({z for k, v in TIMEZONE_DATA.items() if k.startswith(f"1{npa}") for z in v})
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

ALLOWED_FROM = dt.time(8, 0)
ALLOWED_UNTIL = dt.time(21, 0)

# (zones, area codes separated by spaces)
_GROUPS: tuple[tuple[tuple[str, ...], str], ...] = (
    (('America/New_York',),
     (
        "201 202 203 207 212 215 216 220 223 227 229 231 234 239 240 248 "
        "252 260 267 269 272 276 283 301 302 304 305 313 315 317 321 324 "
        "326 329 330 332 336 339 347 351 352 363 364 380 386 401 404 407 "
        "410 412 413 419 434 440 443 445 448 463 470 472 475 478 484 502 "
        "508 513 516 517 518 540 551 561 567 570 571 582 585 586 603 607 "
        "609 610 614 616 617 631 640 645 646 656 667 678 680 681 686 703 "
        "704 706 716 717 718 724 727 728 732 734 740 743 754 757 762 765 "
        "770 771 772 774 781 786 802 803 804 810 813 814 821 826 828 835 "
        "838 839 843 845 848 854 856 857 859 860 862 863 864 865 878 904 "
        "908 910 912 914 917 919 929 930 934 937 941 943 947 948 954 959 "
        "973 978 980 984 989"
     )),
    (('America/Chicago',),
     (
        "205 210 214 217 218 224 225 228 235 251 254 256 262 274 281 309 "
        "312 314 316 318 319 320 325 327 331 334 337 346 353 361 402 405 "
        "409 414 417 430 432 447 464 469 479 501 504 507 512 515 531 534 "
        "539 557 563 572 573 580 601 608 612 615 618 629 630 636 641 651 "
        "659 660 662 682 689 708 712 713 715 726 730 731 737 763 769 773 "
        "779 806 815 816 817 830 832 847 870 872 901 903 913 918 920 931 "
        "936 938 940 945 952 956 972 975 979 985"
     )),
    (('America/Los_Angeles',),
     (
        "206 209 213 253 279 310 323 341 350 360 369 408 415 424 425 442 "
        "458 503 509 510 530 559 562 564 619 626 628 650 657 661 669 702 "
        "707 714 725 738 747 760 805 818 820 831 840 858 909 916 925 949 "
        "951 971"
     )),
    (('America/Denver',), "303 307 385 406 435 505 575 719 720 748 801 915 970 983"),
    (('America/Chicago', 'America/New_York'), "219 270 423 574 606 812 850 906"),
    (('America/Phoenix',), "480 520 602 623"),
    (('America/Chicago', 'America/Denver'), "308 620 785"),
    (('America/Boise', 'America/Denver', 'America/Los_Angeles'), "208 775"),
    (('America/Chicago', 'America/Denver', 'America/North_Dakota/Center'), "605 701"),
    (('America/Adak', 'America/Anchorage', 'America/Juneau', 'Pacific/Honolulu'), "907"),
    (('America/Boise', 'America/Los_Angeles'), "986"),
    (('America/Denver', 'America/Los_Angeles'), "541"),
    (('America/Denver', 'America/Phoenix'), "928"),
    (('Pacific/Honolulu',), "808"),
)

AREA_CODE_ZONES: dict[str, tuple[str, ...]] = {
    code: zones for zones, codes in _GROUPS for code in codes.split()
}


def area_code(e164: str) -> str | None:
    """``+13035550100`` -> ``"303"``; None for anything that is not a NANP number."""
    if isinstance(e164, str) and len(e164) == 12 and e164.startswith("+1") and e164[1:].isdigit():
        return e164[2:5]
    return None


def zone_names_for(e164: str) -> tuple[str, ...] | None:
    """The IANA zones of a US number's area code, or None when the table does not know it."""
    code = area_code(e164)
    return AREA_CODE_ZONES.get(code) if code else None


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def recipient_zones(e164: str, fallback: str) -> tuple[zoneinfo.ZoneInfo, ...]:
    """Where the recipient may be: the area code's zones, else the business's zone."""
    return tuple(_zone(name) for name in (zone_names_for(e164) or (fallback,)))


def allowed_at(instant: dt.datetime, zones: tuple[zoneinfo.ZoneInfo, ...]) -> bool:
    """True when ``instant`` is within 08:00-21:00 local time in every zone."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return all(ALLOWED_FROM <= instant.astimezone(zone).time() < ALLOWED_UNTIL for zone in zones)


def next_allowed(instant: dt.datetime, zones: tuple[zoneinfo.ZoneInfo, ...]) -> dt.datetime:
    """The first instant at or after ``instant`` when sending is allowed in every zone (UTC)."""
    if allowed_at(instant, zones):
        return instant.astimezone(dt.timezone.utc)
    candidates: list[dt.datetime] = []
    for zone in zones:
        local_day = instant.astimezone(zone).date()
        for offset in range(0, 3):
            day = local_day + dt.timedelta(days=offset)
            candidates.append(dt.datetime.combine(day, ALLOWED_FROM, tzinfo=zone).astimezone(dt.timezone.utc))
    for candidate in sorted(c for c in candidates if c >= instant):
        if allowed_at(candidate, zones):
            return candidate
    raise ValueError("no common sending window")  # zones more than 13 hours apart: not in the table
