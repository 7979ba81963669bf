"""Reads the explorer HTML (server output or a browser's DOM dump) into sections and operation cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Card:
    method: str
    path: str
    hidden: bool
    text: list[str] = field(default_factory=list)
    badges: list[str] = field(default_factory=list)

    @property
    def content(self) -> str:
        return " ".join(t for t in self.text if t)


@dataclass
class Section:
    name: str = ""
    hidden: bool = False
    count: str = ""
    more: str = ""
    more_hidden: bool = True
    cards: list[Card] = field(default_factory=list)

    @property
    def visible_cards(self) -> list[Card]:
        return [c for c in self.cards if not c.hidden]


class ExplorerPage(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self.body_attrs: dict[str, str | None] = {}
        self.links: list[tuple[str, str]] = []  # (tag, url) of scripts and stylesheets
        self._stack: list[tuple[str, str]] = []  # (tag, role)
        self._section: Section | None = None
        self._card: Card | None = None
        self.feed(html)
        self.close()

    @property
    def ready(self) -> bool:
        return self.body_attrs.get("data-explorer-ready") == "true"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        role = ""
        if tag == "body":
            self.body_attrs = a
        elif tag == "script" and a.get("src"):
            self.links.append(("script", a["src"] or ""))
        elif tag == "link" and a.get("href"):
            self.links.append(("link", a["href"] or ""))
        elif tag == "section" and "group" in classes:
            self._section = Section(hidden="hidden" in a)
            self.sections.append(self._section)
            role = "section"
        elif self._section is not None and tag == "article" and "op" in classes:
            self._card = Card(a.get("data-method") or "", a.get("data-path") or "", "hidden" in a)
            self._section.cards.append(self._card)
            role = "card"
        elif self._section is not None and self._card is None and tag == "h2":
            role = "name"
        elif self._section is not None and tag == "p" and "count" in classes:
            role = "count"
        elif self._section is not None and tag == "button" and "more" in classes:
            self._section.more_hidden = "hidden" in a
            role = "more"
        elif self._card is not None and tag == "span" and "badge" in classes:
            role = "badge"
        if tag not in VOID:
            self._stack.append((tag, role))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            open_tag, role = self._stack.pop()
            if role == "card":
                self._card = None
            elif role == "section":
                self._section = None
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        roles = {role for _, role in self._stack}
        text = data.strip()
        if not text:
            return
        if self._section is not None:
            if "name" in roles:
                self._section.name += text
            elif "count" in roles:
                self._section.count = (self._section.count + " " + text).strip()
            elif "more" in roles:
                self._section.more += text
        if self._card is not None:
            self._card.text.append(text)
            if "badge" in roles:
                self._card.badges.append(text)
