"""How long X thinks a text is: twitter-text's weighted length (configuration v3).

X does not count characters. It counts weights, as its open-source twitter-text does
(``parseTweet``): the text is NFC-normalised; every link, whatever its length, counts as
a t.co link (23); every emoji, even a multi-code-point sequence such as a family or a
flag, counts 2; any other code point counts 1 inside the v3 ranges (Latin, Greek,
Cyrillic, Hebrew, Arabic, Indic and Thai scripts, general punctuation) and 2 outside
them (CJK, Hangul, Japanese kana, most symbols). A post may weigh at most 280.

Pure functions, no I/O, only the standard library and the TLD lists in
``socialdesk.plugins.x.tlds``. The X plugin checks a reply's length with it before
sending; the sandbox's X emulator imports it too, so both count the same way.

Differences from twitter-text, all rare in support replies: links with a non-ASCII
(IDN) top-level domain are not recognised, and the emoji matcher covers the
pictographic blocks, flags, keycaps, tag sequences, skin tones and ZWJ sequences rather
than the complete Unicode emoji list.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from socialdesk.plugins.x.tlds import COUNTRY_TLDS, GENERIC_TLDS

MAX_WEIGHTED_LENGTH = 280
TRANSFORMED_URL_LENGTH = 23  # every link is sent as a 23-character t.co link
_SCALE = 100
_DEFAULT_WEIGHT = 200
# (first code point, last code point, weight) from twitter-text's config/v3.json
_RANGES: tuple[tuple[int, int, int], ...] = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))
_INVALID_CHARS = frozenset("\ufffe\ufeff\uffff")

# --- links (twitter-text's extractUrl, ASCII domains) -------------------------------------
# The domain is found by a linear scan instead of twitter-text's backtracking regex,
# which takes minutes on a few thousand dotted characters; the tests check both agree.
_NOT_DOMAIN_CHARS = frozenset(
    "!'#%&()*+,-./:;<=>?@[]^_{|}~$\\"  # twitter-text's punct
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u180e\u2028\u2029\u202f\u205f\u3000"  # its spaces
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\ufffe\ufeff\uffff"  # its invalid characters
)
_LATIN_ACCENTS = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
_CYRILLIC = "\u0400-\u04ff"
_ASCII_LABEL_CHAR = re.compile(f"[\\-a-z0-9{_LATIN_ACCENTS}]", re.IGNORECASE)
_TLDS = frozenset(GENERIC_TLDS) | frozenset(COUNTRY_TLDS)
_ALNUM_RUN = re.compile(r"[0-9A-Za-z]+")
_PUNYCODE = re.compile(r"xn--[\-0-9a-z]+", re.IGNORECASE)
_PROTOCOL = re.compile(r"https?://", re.IGNORECASE)
_PATH_CHAR = f"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\\[\\]\\-\u2013_~@|&{_LATIN_ACCENTS}]"
_PARENS = f"\\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\\({_PATH_CHAR}+\\){_PATH_CHAR}*))\\)"
_PATH_END = f"(?:[+\\-a-z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]|(?:{_PARENS}))"
_PATH = f"(?:(?:{_PATH_CHAR}*(?:{_PARENS}{_PATH_CHAR}*)*{_PATH_END})|(?:@{_PATH_CHAR}+/))"
_QUERY_CHAR = r"[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]"
_QUERY_END = r"[a-z0-9\-_&=#/]"
# Everything after the domain is optional, so this never backtracks into a failure.
_URL_TAIL = re.compile(f"(?::[0-9]+)?(?P<path>/{_PATH}*)?(?:\\?{_QUERY_CHAR}*{_QUERY_END})?", re.IGNORECASE)
_NOT_BEFORE_URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@\uff20$#\uff03\ufffe\ufeff\uffff")
_TCO = re.compile(r"^https?://t\.co/([a-z0-9]+)", re.IGNORECASE)
_MAX_URL_LENGTH = 4096


def _tld_end(text: str, at: int) -> int | None:
    """End of a top-level domain starting at ``at``: a whole alphanumeric run that is a known TLD, or punycode."""
    run = _ALNUM_RUN.match(text, at)
    if run and run[0].lower() in _TLDS and (run.end() == len(text) or text[run.end()] not in "@+-"):
        return run.end()
    puny = _PUNYCODE.match(text, at)
    return puny.end() if puny else None


class _DomainScanner:
    """twitter-text's ``subdomain* domainName tld``, longest first, in one pass over ``text``.

    Labels end at dots, so a domain is a chain of labels; the regex's greedy choice is
    the longest chain whose last label is followed by a TLD. ``chain_end`` is computed
    once per label that follows a dot, which makes every scan linear overall.
    """

    def __init__(self, text: str, ascii_only: bool) -> None:
        self.text = text
        self.ascii_only = ascii_only
        n = len(text)
        self.label_end = [0] * (n + 1)
        self.next_underscore = [n] * (n + 1)
        self.label_end[n] = n
        for p in range(n - 1, -1, -1):
            self.label_end[p] = self.label_end[p + 1] if self._label_char(text[p]) else p
            self.next_underscore[p] = p if text[p] == "_" else self.next_underscore[p + 1]
        self._memo: dict[int, int | None] = {}
        for q in range(n - 1, 0, -1):  # right to left: a chain only looks rightwards
            if text[q - 1] == ".":
                self._memo[q] = self._chain_end(q)

    def _label_char(self, char: str) -> bool:
        if self.ascii_only:
            return _ASCII_LABEL_CHAR.match(char) is not None
        return char not in _NOT_DOMAIN_CHARS or char in "_-"

    def _edges_ok(self, start: int, end: int) -> bool:
        if self.ascii_only:
            return True
        return self.text[start] not in _NOT_DOMAIN_CHARS and self.text[end - 1] not in _NOT_DOMAIN_CHARS

    def _chain_end(self, start: int) -> int | None:
        end = self.label_end[start]
        if end == start or end >= len(self.text) or self.text[end] != ".":
            return None
        as_subdomain = self._edges_ok(start, end)
        if as_subdomain:
            longer = self._memo.get(end + 1)
            if longer is not None:
                return longer
        as_name = as_subdomain and (self.ascii_only or self.next_underscore[start] >= end)
        return _tld_end(self.text, end + 1) if as_name else None

    def domain_end(self, start: int) -> int | None:
        """End of the longest domain starting exactly at ``start``, or None."""
        return self._chain_end(start)


@dataclass(frozen=True)
class UrlSpan:
    """A link found in a text: ``text[start:end] == url``; indices count code points."""

    start: int
    end: int
    url: str


def normalize(text: str) -> str:
    """The form X measures and stores: Unicode NFC."""
    return unicodedata.normalize("NFC", text)


def extract_urls(text: str) -> list[UrlSpan]:
    """The links twitter-text finds in ``text`` (with or without http(s)://), in order."""
    if "." not in text:
        return []
    domains = _DomainScanner(text, ascii_only=False)
    spans: list[UrlSpan] = []
    search = 0  # like the regex: a "before" character at ``search``, then the link; or ^ at 0
    while search < len(text):
        starts = [search + 1] if text[search] not in _NOT_BEFORE_URL else []
        if search == 0:
            starts.append(0)  # the "^" alternative comes second, as in twitter-text
        for start in starts:
            end = _link_at(text, start, domains, spans)
            if end is not None:
                search = end
                break
        else:
            search += 1
    return spans


def _link_at(text: str, start: int, domains: _DomainScanner, spans: list[UrlSpan]) -> int | None:
    """If a link candidate starts at ``start``: add what it yields to ``spans``, return its end."""
    protocol = _PROTOCOL.match(text, start)
    domain_start = protocol.end() if protocol else start
    domain_end = domains.domain_end(domain_start) if domain_start < len(text) else None
    if domain_end is None:
        return None
    tail = _URL_TAIL.match(text, domain_end)
    assert tail is not None  # every part of the tail is optional
    url = text[start:tail.end()]
    if len(protocol[0] if protocol else "https://") + len(url) <= _MAX_URL_LENGTH:
        if protocol:
            spans.extend(_with_protocol(url, start))
        elif text[start - 1:start] not in ("-", "_", ".", "/"):
            spans.extend(_protocol_less(url, text[domain_start:domain_end], tail["path"], start))
    return tail.end()


def _with_protocol(url: str, start: int) -> list[UrlSpan]:
    tco = _TCO.match(url)
    if tco:  # a t.co link takes no extra path characters
        if len(tco[1]) > 40:
            return []
        url = tco[0]
    return [UrlSpan(start, start + len(url), url)]


def _protocol_less(url: str, domain: str, path: str | None, start: int) -> list[UrlSpan]:
    # A bare domain links only its ASCII parts, and a short ccTLD domain ("example.jp")
    # only with a path; the last domain found carries the path and query.
    found: list[UrlSpan] = []
    last: UrlSpan | None = None
    ascii_domains = _DomainScanner(domain, ascii_only=True)
    position = 0
    while position < len(domain):
        end = ascii_domains.domain_end(position)
        if end is None:
            position += 1
            continue
        last = UrlSpan(start + position, start + end, domain[position:end])
        if path or last.url.lower() == "t.co" or not _is_short_cctld_domain(last.url):
            found.append(last)
        position = end
    if last is not None and path and found and found[-1] is last:
        found[-1] = UrlSpan(last.start, start + len(url), last.url + url[len(domain):])
    return found


def _is_short_cctld_domain(domain: str) -> bool:
    """twitter-text's invalidShortDomain: one label and a country TLD, e.g. ``example.jp``."""
    label, dot, tld = domain.partition(".")
    return bool(dot) and "." not in tld and tld.lower() in COUNTRY_TLDS and label[0] != "-" and label[-1] != "-"


# --- emoji -------------------------------------------------------------------------------
_PICTOGRAPH = (
    "\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23e9-\u23f3\u23f8-\u23fa"
    "\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u27bf\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c\u2b50"
    "\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
_SKIN_TONE = "[\U0001f3fb-\U0001f3ff]"
# (C) and (R) are text characters unless followed by the emoji variation selector.
_EMOJI_ELEMENT = f"(?:[\u00a9\u00ae]\ufe0f|[{_PICTOGRAPH}]\ufe0f?{_SKIN_TONE}?)"
_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators
    "|[0-9#*]\ufe0f?\u20e3"  # a keycap
    "|\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"  # a subdivision flag (tag sequence)
    f"|{_EMOJI_ELEMENT}(?:\u200d{_EMOJI_ELEMENT})*"  # one emoji, or a ZWJ sequence of them
)


def _char_weight(char: str) -> int:
    code = ord(char)
    for first, last, weight in _RANGES:
        if first <= code <= last:
            return weight
    return _DEFAULT_WEIGHT


def _scaled_length(text: str) -> int:
    urls = {span.start: span for span in extract_urls(text)}
    emoji = {m.start(): m.end() for m in _EMOJI.finditer(text)}
    total = 0
    index = 0
    while index < len(text):
        if index in urls:
            total += TRANSFORMED_URL_LENGTH * _SCALE
            index = urls[index].end
        elif index in emoji:
            total += _DEFAULT_WEIGHT
            index = emoji[index]
        else:
            total += _char_weight(text[index])
            index += 1
    return total


def weighted_length(text: str) -> int:
    """The length X checks against 280: ``weighted_length("héllo 世界") == 10``."""
    return _scaled_length(normalize(text)) // _SCALE


def has_invalid_characters(text: str) -> bool:
    """True when ``text`` holds a character X refuses (U+FFFE, U+FEFF, U+FFFF)."""
    return any(char in _INVALID_CHARS for char in text)


def is_valid_length(text: str, limit: int = MAX_WEIGHTED_LENGTH) -> bool:
    """What twitter-text calls a valid tweet: not empty, no invalid characters, at most ``limit``."""
    normalized = normalize(text)
    return not has_invalid_characters(normalized) and 0 < _scaled_length(normalized) <= limit * _SCALE
