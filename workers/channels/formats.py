"""Plain notification text made safe for each channel's format: HTML for e-mail, markdown for robots.

A resident's words are shown, never interpreted: no markup, no links, no mentions they did not mean.
"""

from __future__ import annotations

import html
import re

# WeCom and DingTalk markdown document no escape character, so markup characters become their
# full-width twins, which read the same to people and mean nothing to the renderer.
_MARKDOWN = str.maketrans({
    "\\": "＼", "*": "＊", "_": "＿", "`": "｀", "[": "［", "]": "］", "(": "（", ")": "）", "#": "＃",
    "<": "＜", ">": "＞", "~": "～", "|": "｜", "!": "！", "@": "＠", "&": "＆",
})
# Clients turn bare addresses into links; a full-width colon or dot keeps them readable but inert.
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp)://|\bwww\.")


def inert_text(text: str) -> str:
    return _AUTOLINK.sub(lambda m: m.group(0).replace("://", "：//").replace(".", "。"), text)


def markdown_text(text: str) -> str:
    """Free text for a markdown message: every markup character neutralised."""
    return inert_text(text).translate(_MARKDOWN)


def markdown_message(notice) -> str:
    lines = [f"**{markdown_text(notice.subject)}**", "", *(markdown_text(line) for line in notice.body.splitlines())]
    if notice.links:
        lines += ["", "　".join(f"[{markdown_text(link.label)}]({link.url})" for link in notice.links)]
    return "\n".join(lines)


def plain_message(notice) -> str:
    """Subject, body and links as plain text (e-mail text part, SMS)."""
    lines = [notice.body]
    lines += [f"{link.label}：{link.url}" for link in notice.links]
    return "\n".join(lines)


def html_message(notice) -> str:
    body = "<br>\n".join(html.escape(line) for line in notice.body.splitlines())
    links = " ".join(
        f'<a href="{html.escape(link.url, quote=True)}" style="margin-right:1em">{html.escape(link.label)}</a>'
        for link in notice.links
    )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head>'
        f"<body><h3>{html.escape(notice.subject)}</h3><p>{body}</p><p>{links}</p></body></html>"
    )
