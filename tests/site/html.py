"""Reading rendered pages: the URLs they load or link, and any inline script or style."""

from __future__ import annotations

from html.parser import HTMLParser


class PageParts(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]
        if "style" in named:
            self.inline.append(f"style attribute on <{tag}>")
        if tag == "style":
            self.inline.append("<style> block")
        data_block = named.get("type") == "application/json"  # not run, so no CSP concern
        self._in_script = tag == "script" and "src" not in named and not data_block

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(f"inline <script>: {data.strip()[:60]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
