"""The search query language of GET /2/tweets/search/recent: the subset the sandbox understands.

Supported, with X's meaning:

==========================  ==========================================================
``acme``                    keyword: a whole word of the text, any case
``"order status"``          exact phrase, any case
``#acme`` / ``$ACME``       hashtag / cashtag entity
``@acme``                   the post mentions @acme
``from:acme``               written by @acme (username or user id)
``to:acme``                 a reply to a post by @acme
``conversation_id:123``     in that conversation
``in_reply_to_tweet_id:1``  a direct reply to that post
``url:acme.com``            a link whose expanded URL contains the text
``is:reply`` ``is:quote``   replies / quotes; ``is:retweet`` never matches (no reposts here)
``is:verified``             written by a verified account
``has:mentions`` ``has:links`` ``has:hashtags``
``lang:en``                 the post's language
``a b``                     both (AND); ``a OR b`` either; ``-a`` not; ``( )`` grouping
==========================  ==========================================================

As on X, ``is:``, ``has:`` and ``lang:`` cannot stand alone: every alternative needs a
positive keyword, phrase, hashtag, mention or ``from:``-style operator. Anything else
(an unknown ``name:`` operator, an unbalanced quote or parenthesis) is a 400 answer with
X's message style.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from socialdesk.sandbox.x.timeline import PublicTimeline, Tweet

STANDALONE = ("from", "to", "conversation_id", "in_reply_to_tweet_id", "url")
CONJUNCTION_REQUIRED = ("is", "has", "lang")
IS_VALUES = ("reply", "quote", "retweet", "verified")
HAS_VALUES = ("mentions", "links", "hashtags")


class QueryError(ValueError):
    """A query X would refuse; ``str()`` is X's message."""


@dataclass(frozen=True)
class Atom:
    kind: str  # "word", "phrase", "hashtag", "cashtag", "mention" or an operator name
    value: str
    position: int

    @property
    def standalone(self) -> bool:
        return self.kind not in CONJUNCTION_REQUIRED


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple[Node, ...]


Node = Atom | Not | And | Or
_TOKEN = re.compile(r'\s+|(?P<open>\()|(?P<close>\))|(?P<neg>-(?=[^\s)]))|(?P<phrase>"[^"]*")|(?P<quote>")|(?P<word>[^\s()"]+)')


def _error(message: str, position: int) -> QueryError:
    return QueryError(f"There were errors processing your request: {message} (at position {position + 1})")


class _Parser:
    def __init__(self, query: str) -> None:
        self.length = len(query)
        self.tokens: list[tuple[str, str, int]] = []
        for match in _TOKEN.finditer(query):
            kind = match.lastgroup
            if kind == "quote":
                raise _error("Unmatched quote", match.start())
            if kind:
                self.tokens.append((kind, match[0], match.start()))
        self.index = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def parse(self) -> Node:
        if not self.tokens:
            raise _error("Empty query", 0)
        node = self.or_expr()
        extra = self.peek()
        if extra is not None:
            raise _error("Unmatched closing parenthesis", extra[2])
        return node

    def or_expr(self) -> Node:
        branches = [self.and_expr()]
        while (token := self.peek()) and token[0] == "word" and token[1] == "OR":
            self.index += 1
            branches.append(self.and_expr())
        return branches[0] if len(branches) == 1 else Or(tuple(branches))

    def and_expr(self) -> Node:
        nodes: list[Node] = []
        while (token := self.peek()) and token[0] != "close" and not (token[0] == "word" and token[1] == "OR"):
            nodes.append(self.unary())
        if not nodes:
            token = self.peek()
            raise _error("Expected a clause", token[2] if token else self.length)
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def unary(self) -> Node:
        kind, _text, _position = self.tokens[self.index]
        if kind == "neg":
            self.index += 1
            return Not(self.primary())
        return self.primary()

    def primary(self) -> Node:
        if self.index >= len(self.tokens):
            raise _error("Expected a clause", self.length)
        kind, text, position = self.tokens[self.index]
        self.index += 1
        if kind == "open":
            node = self.or_expr()
            closing = self.peek()
            if closing is None or closing[0] != "close":
                raise _error("Unmatched opening parenthesis", position)
            self.index += 1
            return node
        if kind == "close":
            raise _error("Unmatched closing parenthesis", position)
        if kind == "phrase":
            return Atom("phrase", text[1:-1].lower(), position)
        return _atom(text, position)


def _atom(text: str, position: int) -> Atom:
    if text[0] in "#\uff03" and len(text) > 1:
        return Atom("hashtag", text[1:].lower(), position)
    if text[0] == "$" and len(text) > 1:
        return Atom("cashtag", text[1:].lower(), position)
    if text[0] in "@\uff20" and len(text) > 1:
        return Atom("mention", text[1:].lower(), position)
    name, colon, value = text.partition(":")
    if colon and name and not name.startswith("http"):
        if name not in STANDALONE + CONJUNCTION_REQUIRED:
            raise _error(f"Reference to invalid operator '{name}'. Operator is not available in current product "
                         "or product packaging. Please refer to complete available operator list at "
                         "https://developer.x.com/en/docs/x-api/tweets/search/integrate/build-a-query.", position)
        if not value:
            raise _error(f"Operator '{name}' needs a value", position)
        if name == "is" and value not in IS_VALUES or name == "has" and value not in HAS_VALUES:
            raise _error(f"Reference to invalid operator '{name}:{value}'", position)
        return Atom(name, value.lower(), position)
    return Atom("word", text.lower(), position)


def _has_positive_standalone(node: Node) -> bool:
    """Whether every way of satisfying ``node`` involves a positive standalone clause."""
    if isinstance(node, Atom):
        return node.standalone
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_has_positive_standalone(n) for n in node.nodes)
    return all(_has_positive_standalone(n) for n in node.nodes)


def _first_position(node: Node) -> int:
    while not isinstance(node, Atom):
        node = node.node if isinstance(node, Not) else node.nodes[0]
    return node.position


def parse(query: str) -> Node:
    """The query as a tree; ``QueryError`` with X's message when X would refuse it."""
    node = _Parser(query).parse()
    if not _has_positive_standalone(node):
        clauses = node.nodes if isinstance(node, And) else (node,)
        if all(isinstance(n, Not) for n in clauses):
            raise _error("Rules must contain a non-negation term", _first_position(node))
        raise _error("Rules must contain at least one positive clause that can stand alone "
                     "(is:, has: and lang: cannot)", _first_position(node))
    return node


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _atom_matches(atom: Atom, tweet: Tweet, timeline: PublicTimeline) -> bool:
    kind, value = atom.kind, atom.value
    if kind == "word":
        if re.fullmatch(r"\w+", value):
            return value in _words(tweet.text)
        return value in tweet.text.lower()
    if kind == "phrase":
        return re.search(r"(?<!\w)" + re.escape(value) + r"(?!\w)", tweet.text.lower()) is not None
    if kind in ("hashtag", "cashtag"):
        return any(e["tag"].lower() == value for e in tweet.entities.get(kind + "s", ()))
    if kind == "mention":
        return tweet.mentions(value)
    if kind == "from":
        author = timeline.user(tweet.author_id)
        return author is not None and value in (author.username.lower(), author.id)
    if kind == "to":
        replied = timeline.user(tweet.in_reply_to_user_id) if tweet.in_reply_to_user_id else None
        return replied is not None and value in (replied.username.lower(), replied.id)
    if kind == "conversation_id":
        return tweet.conversation_id == value
    if kind == "in_reply_to_tweet_id":
        return tweet.in_reply_to_tweet_id == value
    if kind == "url":
        return any(value in e["expanded_url"].lower() for e in tweet.entities.get("urls", ()))
    if kind == "lang":
        return tweet.lang == value
    if kind == "has":
        return bool(tweet.entities.get({"links": "urls"}.get(value, value)))
    # kind == "is"
    if value == "reply":
        return tweet.in_reply_to_tweet_id is not None
    if value == "quote":
        return tweet.quoted_tweet_id is not None
    if value == "verified":
        author = timeline.user(tweet.author_id)
        return author is not None and author.verified
    return False  # is:retweet: the sandbox has no reposts


def matches(node: Node, tweet: Tweet, timeline: PublicTimeline) -> bool:
    if isinstance(node, Atom):
        return _atom_matches(node, tweet, timeline)
    if isinstance(node, Not):
        return not matches(node.node, tweet, timeline)
    if isinstance(node, And):
        return all(matches(n, tweet, timeline) for n in node.nodes)
    return any(matches(n, tweet, timeline) for n in node.nodes)


def compile_query(query: str, timeline: PublicTimeline) -> Callable[[Tweet], bool]:
    """A predicate over posts for ``query``; raises ``QueryError`` like X answers 400."""
    node = parse(query)
    return lambda tweet: matches(node, tweet, timeline)
