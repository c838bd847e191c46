"""Showing composed posts to people (text, HTML preview) and to tools (JSON)."""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Iterable

from .cards import Card
from .compose import Composed, Post
from .publisher import Part


def as_json(results: Iterable[Composed]) -> str:
    """The ``render --format json`` contract of DESIGN.md."""
    return json.dumps([_object(c) for c in results], ensure_ascii=False, indent=2)


def _object(c: Composed) -> dict:
    out = {"note": c.note.path.as_posix(), "platform": c.platform.name, "title": c.note.title,
           "posts": [_post(p) for p in c.posts], "warnings": list(c.warnings)}
    if c.comments:
        out["comments"] = [_post(p) for p in c.comments]
    return out


def _post(post: Post) -> dict:
    out = {"text": post.text, "length": post.length, "limit": post.limit,
           "media": [{"path": m.path.as_posix(), "alt": m.alt} for m in post.media]}
    out.update(post.extra)
    if post.card:
        out["card"] = {"uri": post.card.uri, "title": post.card.title, "description": post.card.description,
                       "image": post.card.image if post.card.thumb else ""}
    return out


def as_text(results: Iterable[Composed]) -> str:
    blocks = []
    for c in results:
        head = f"== {c.note.path.as_posix()} → {c.platform.title or c.platform.name} ({_count(c.posts)})"
        body = [head]
        for i, post in enumerate(c.posts, 1):
            label = f"[{i}/{len(c.posts)}] " if len(c.posts) > 1 else ""
            body.append(f"--- {label}{post.length}/{post.limit}" + _media_line(post))
            body.append(post.text)
            if post.card:
                body.append(f"[card {post.card.uri}: {post.card.title}]")
        for i, post in enumerate(c.comments, 1):
            body.append(f"--- comment {i} {post.length}/{post.limit}")
            body.append(post.text)
        body.extend(f"warning: {w}" for w in c.warnings)
        blocks.append("\n".join(body))
    return "\n\n".join(blocks)


def _count(posts) -> str:
    return "1 post" if len(posts) == 1 else f"thread of {len(posts)} posts"


def _media_line(post: Post) -> str:
    return "".join(f"\n[image {m.path.as_posix()}: {m.alt or 'NO ALT TEXT'}]" for m in post.media)


def preview_text(results: Iterable[Composed]) -> str:
    """Each post with its length and limit; on LinkedIn, where the fold falls."""
    blocks = []
    for c in results:
        source = f" · from {c.source}" if c.source != "body" else ""
        lines = [f"┌ {c.platform.title} · {c.note.title} · {_count(c.posts)}{source}"]
        for i, post in enumerate(c.posts, 1):
            lines.append(f"├─ {i}/{len(c.posts)} · {post.length}/{post.limit}" + _media_line(post).replace("\n", "\n│ "))
            text = post.text
            cut = c.platform.fold(text)
            if cut is not None:
                text = text[:cut] + " ⟪…see more⟫ " + text[cut:]
            lines.extend("│ " + line for line in text.split("\n"))
            if post.card:
                lines.extend("│ " + line for line in _card_box(post.card))
        lines.extend(f"│ ⚠ {w}" for w in c.warnings)
        lines.append("└")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _card_box(card: Card) -> list[str]:
    """A link card drawn in the terminal: title, description, where it leads, its image."""
    lines = ["╭─ " + card.title]
    if card.description:
        lines.append("│ " + (card.description if len(card.description) <= 200 else card.description[:199] + "…"))
    lines.append("│ " + card.uri)
    if card.thumb:
        width, height = card.thumb.size
        lines.append(f"│ [image {card.image}: {width}×{height}, {len(card.thumb.data):,} bytes]")
    return lines + ["╰─"]


def card_lines(parts: Iterable[Part], cache: Path) -> list[str]:
    """For a dry run: each part's link card, and where its page was read (now, or the cache)."""
    out = []
    for part in parts:
        card = part.card
        if card is None:
            continue
        read = (f"page read {card.fetched}, remembered in {cache.as_posix()}" if card.cached
                else f"page fetched now ({card.fetched})")
        image = (f"image {card.image} ({len(card.thumb.data):,} bytes {card.thumb.mime} after shrinking)"
                 if card.thumb else "no image")
        out.append(f"card on post {part.index + 1}: {card.uri}: {card.title!r}; {image}; {read}")
    return out


CSS = """body{font:15px/1.45 system-ui,sans-serif;background:#f3f2ef;margin:0;padding:24px}
h1{font-size:18px}section{max-width:560px;margin:0 auto 32px}
.card{background:#fff;border:1px solid #ddd;border-radius:10px;padding:14px 16px;margin:0 0 10px;white-space:pre-wrap;word-wrap:break-word}
.thread .card{border-left:4px solid #1d9bf0}.bluesky .card{border-left-color:#0085ff}.mastodon .card{border-left-color:#6364ff}
.meta{color:#666;font-size:12px;margin-bottom:6px}.over{color:#b00}.more{color:#666;font-weight:600}
.hidden{display:none}details summary{cursor:pointer;color:#666}figure{margin:8px 0}figure img{max-width:100%;border-radius:8px}
figcaption{font-size:12px;color:#666}.link{display:block;border:1px solid #ddd;border-radius:8px;overflow:hidden;
margin:8px 0;color:inherit;text-decoration:none;white-space:normal}.link img{width:100%;display:block}
.link div{padding:6px 10px}.link .title{font-weight:600}.link .where{color:#666;font-size:12px}.warn{background:#fff4e5;border:1px solid #f0c36d;padding:8px;border-radius:6px;font-size:13px}"""


def preview_html(results: Iterable[Composed]) -> str:
    """One self-contained page imitating each platform's card, fold and thread included."""
    sections = []
    for c in results:
        cards = []
        for i, post in enumerate(c.posts, 1):
            over = " over" if post.length > post.limit else ""
            meta = f'<div class="meta{over}">{i}/{len(c.posts)} · {post.length}/{post.limit}</div>'
            text = html.escape(post.text)
            cut = c.platform.fold(post.text)
            if cut is not None:
                text = (html.escape(post.text[:cut]) + '<details><summary class="more">…see more</summary>'
                        + html.escape(post.text[cut:]) + "</details>")
            figures = []
            for m in post.media:
                try:
                    data = base64.b64encode(m.path.read_bytes()).decode()
                    src = f"data:{m.mime};base64,{data}"
                except OSError:
                    src = ""
                figures.append(f'<figure><img src="{src}" alt="{html.escape(m.alt, quote=True)}">'
                               f'<figcaption>ALT: {html.escape(m.alt) or "<b>missing</b>"}</figcaption></figure>')
            link = _card_html(post.card) if post.card else ""
            cards.append(f'<article class="card">{meta}{text}{"".join(figures)}{link}</article>')
        warnings = "".join(f'<p class="warn">{html.escape(w)}</p>' for w in c.warnings)
        kind = "thread " if c.platform.threads else ""
        sections.append(f'<section class="{kind}{c.platform.name}"><h1>{html.escape(c.platform.title)} · '
                        f'{html.escape(c.note.title)}</h1>{"".join(cards)}{warnings}</section>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>notecast preview</title>"
            f"<style>{CSS}</style></head><body>{''.join(sections)}</body></html>\n")


def _card_html(card: Card) -> str:
    """A link card as the platforms show one: the image (embedded), the title, the description, the site."""
    image = (f'<img src="data:{card.thumb.mime};base64,{base64.b64encode(card.thumb.data).decode()}" alt="">'
             if card.thumb else "")
    description = f'<div>{html.escape(card.description)}</div>' if card.description else ""
    return (f'<a class="link" href="{html.escape(card.uri, quote=True)}">{image}'
            f'<div class="title">{html.escape(card.title)}</div>{description}'
            f'<div class="where">{html.escape(card.uri)}</div></a>')
