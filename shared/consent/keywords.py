"""What an inbound text asks for: opt out, opt in, help, or nothing (a message for the business).

Pure and conservative. Decisions written down:

* **Keywords** count only as the whole message, case-insensitive, with surrounding whitespace
  and punctuation ignored (``"Stop."``, ``" STOP!! "``). Opt-out: STOP, STOPALL, UNSUBSCRIBE,
  CANCEL, END, QUIT, REVOKE, OPTOUT. Opt-in: START, YES, UNSTOP. Help: HELP, INFO. A keyword
  with only courtesy words around it (``"stop please"``, ``"please STOP, thanks"``) is the same
  keyword.
* **Plain-word revocations** ("please stop texting me", "don't text me again", "remove me from
  your list", "no more texts") are recognised when one *sentence* of the message is exactly one
  of a small set of revocation phrases, optionally wrapped in courtesy words. Anchoring to a
  whole sentence is what makes the matcher conservative: "can you stop by tomorrow?", "stop at
  the store", "don't stop" and "please don't stop texting me" do not match, while "Who is this?
  Stop texting me." does. A miss here is not the last line of defence: the business still sees
  the message (it is forwarded) and can record the opt-out.
* **Consent is never inferred** from plain words: only the opt-in keywords opt a number in.
* **Twilio's ``OptOutType``** (STOP / START / HELP, sent only with Advanced Opt-Out) is
  authoritative when present: Twilio's carrier-level filter has already acted on it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

IntentKind = Literal["opt_out", "opt_in", "help"]

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

_KIND_OF_KEYWORD: dict[str, IntentKind] = {
    **{k: "opt_out" for k in OPT_OUT_KEYWORDS},
    **{k: "opt_in" for k in OPT_IN_KEYWORDS},
    **{k: "help" for k in HELP_KEYWORDS},
}
_OPT_OUT_TYPES: dict[str, IntentKind] = {"STOP": "opt_out", "START": "opt_in", "HELP": "help"}


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    keyword: str  # the keyword as normalised (``STOP``) or ``PLAIN_WORDS`` / ``OPT_OUT_TYPE:STOP``
    source: Literal["keyword", "plain_words", "opt_out_type"]


# Courtesy words allowed around a keyword or a revocation phrase.
_COURTESY = r"(?:please|pls|plz|kindly|ok|okay|hey|hi|hello|sorry|thanks|thank you|thx|ty|now|asap)"
_ME_OBJ = r"(?:me|this number|my number)"
_TEXTS = r"(?:texts?|text messages?|messages?|sms|msgs?)"
_REVOCATIONS = (
    # stop texting me / stop sending me texts / stop messaging me / stop contacting me
    rf"stop (?:texting|txting|messaging|contacting|sending) (?:{_ME_OBJ} )?(?:(?:these|any|your) )?(?:{_TEXTS} )?"
    rf"(?:(?:to )?{_ME_OBJ} )?",
    # don't / do not / never text me
    rf"(?:do not|dont|don't|never) (?:text|txt|message|sms|contact) {_ME_OBJ} ",
    # don't send me any more texts
    rf"(?:do not|dont|don't) send {_ME_OBJ} (?:any )?(?:more )?{_TEXTS} ",
    # remove me / take me off your list
    rf"(?:remove|take) {_ME_OBJ} (?:off|from|off of) (?:your|the|this|ur) (?:texting |text |sms |mailing |contact |"
    rf"messaging )?(?:list|lists) ",
    # no more texts
    rf"no more {_TEXTS} ",
    # unsubscribe me / opt me out / opt out
    rf"(?:unsubscribe|unsub) {_ME_OBJ} ",
    r"opt (?:me )?out ",
    # stop all (texts)
    rf"stop all (?:{_TEXTS} )?",
    # i want to / i'd like to opt out | unsubscribe | stop receiving texts
    rf"i (?:want|would like|wanna|need) to (?:opt out|unsubscribe|stop (?:getting|receiving) (?:these |your |any )?{_TEXTS}) ",
)
_TRAILERS = (rf"(?:(?:again|anymore|any more|ever again|from (?:you|u|you guys|this number|your business)|"
             rf"{_COURTESY}) )*")
_REVOCATION = re.compile(rf"^(?:{_COURTESY} )*(?:{'|'.join(_REVOCATIONS)}){_TRAILERS}$")
_KEYWORD_SENTENCE = re.compile(rf"^(?:{_COURTESY} )*(?P<kw>[a-z]+) (?:{_COURTESY} )*$")
_SENTENCE_SPLIT = re.compile(r"[.!?;\n\r]+")
_NON_WORD = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    """Lower case, ASCII apostrophes, punctuation to spaces, one space between words."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'").lower()
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def keyword_of(body: str | None) -> str | None:
    """The keyword a whole message is (``"Stop."`` -> ``"STOP"``), else None."""
    if not body:
        return None
    folded = _fold(body)
    if not folded:
        return None
    match = _KEYWORD_SENTENCE.match(folded + " ")
    if match and match.group("kw").upper() in _KIND_OF_KEYWORD:
        return match.group("kw").upper()
    return None


def is_plain_revocation(body: str | None) -> bool:
    """True when one sentence of the message is a clear request to stop texting."""
    if not body or len(body) > 1600:  # 10 SMS segments: a long message is a conversation
        return False
    for sentence in _SENTENCE_SPLIT.split(body):
        folded = _fold(sentence)
        if folded and _REVOCATION.match(folded + " "):
            return True
    return False


def classify(body: str | None, opt_out_type: str | None = None) -> Intent | None:
    """The consent intent of one inbound text, or None for an ordinary message."""
    if opt_out_type:
        kind = _OPT_OUT_TYPES.get(opt_out_type.strip().upper())
        if kind is not None:
            return Intent(kind, f"OPT_OUT_TYPE:{opt_out_type.strip().upper()}", "opt_out_type")
    keyword = keyword_of(body)
    if keyword is not None:
        return Intent(_KIND_OF_KEYWORD[keyword], keyword, "keyword")
    if is_plain_revocation(body):
        return Intent("opt_out", "PLAIN_WORDS", "plain_words")
    return None
