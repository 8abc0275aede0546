"""Per-site overrides from the YAML (`list_css`, `body_css`): for a portal whose family
module guesses the list area or the article body wrong, without a new module."""
from __future__ import annotations

from parsel import Selector

from nianbao.pipeline.page_images import article_images

from .families.base import Attachment, Link, attachment_links, links_in


def _fragments(text: str, css: str) -> str:
    return "".join(Selector(text=text).css(css).getall())


def links_within(url: str, text: str, css: str) -> list[Link]:
    frag = _fragments(text, css)
    return links_in(url, f"<div>{frag}</div>") if frag else []


def attachments_within(url: str, text: str, css: str) -> list[Attachment]:
    frag = _fragments(text, css)
    return attachment_links(url, f"<div>{frag}</div>") if frag else []


def page_images_within(url: str, text: str, css: str) -> list[str]:
    frag = _fragments(text, css)
    return article_images(f"<div>{frag}</div>", url) if frag else []
