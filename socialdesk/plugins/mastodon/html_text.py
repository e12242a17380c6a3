"""A status's HTML ``content`` -> the plain text its author wrote.

Mastodon sends statuses as sanitised HTML: paragraphs, ``<br>``, mentions and hashtags
as anchors, links shortened on screen by hidden spans. Agents read the text as written
and where links really go, so a link becomes its ``href``; mentions and hashtags keep
their visible text. Whatever the markup, the result is plain text: the desk escapes it
again for Slack.
"""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCKS = {"p", "blockquote", "pre", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._link_depth = 0  # inside a plain link: its href was written, skip its text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS and self.parts and not "".join(self.parts[-2:]).endswith("\n\n"):
            self.parts.append("\n\n")
        elif tag == "a":
            classes = (values.get("class") or "").split()
            href = values.get("href") or ""
            if self._link_depth:
                self._link_depth += 1
            elif href.startswith(("http://", "https://")) and not {"mention", "hashtag"} & set(classes):
                self.parts.append(href)
                self._link_depth = 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link_depth:
            self._link_depth -= 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._link_depth:
            self.parts.append(data)


def html_to_text(content: str) -> str:
    parser = _TextExtractor()
    parser.feed(content or "")
    parser.close()
    lines = "".join(parser.parts).split("\n")
    text = "\n".join(line.rstrip() for line in lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
