"""schema.org NewsArticle and the link preview of a newspaper article, from its public values.

Built from `public_data.ArticleDetail` only, like the documentation pages' structured data
(solidarity/public/structured.py): the people and events an article is about are there only
when they are public themselves, so `about` cannot name a record the site withholds.

There is no dateModified: an article's `updated_at` is classed internal (when an editor last
touched a piece is newsroom metadata), and repeating datePublished would claim it never changed.
"""

from __future__ import annotations

import datetime as dt

from solidarity.public.structured import CONTEXT, Absolute, Json, OpenGraph, put

from .public_data import ArticleDetail, ImageInfo, IssueInfo


def _moment(when: dt.datetime) -> str:
    return when.replace(microsecond=0).isoformat()


def _image(image: ImageInfo, absolute: Absolute) -> Json:
    data: Json = {"@type": "ImageObject", "url": absolute(image.url)}
    put(data, "caption", image.caption)
    put(data, "creditText", image.credit)
    put(data, "description", image.alt_text)
    return data


def _issue(issue: IssueInfo, absolute: Absolute) -> Json:
    data: Json = {
        "@type": "PublicationIssue",
        "name": issue.title.text or issue.label,
        "url": absolute(issue.url),
    }
    put(data, "datePublished", issue.published.isoformat() if issue.published else None)
    return data


def news_article(article: ArticleDetail, absolute: Absolute) -> Json:
    summary = article.summary
    url = absolute(summary.url)
    data: Json = {
        "@context": CONTEXT,
        "@type": "NewsArticle",
        "headline": summary.title,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": _moment(summary.publish_at),
        "inLanguage": summary.language,
        "identifier": f"urn:uuid:{article.uuid}",
    }
    put(data, "description", summary.standfirst)
    if summary.byline is not None:
        data["author"] = {
            "@type": "Person",
            "name": summary.byline.name,
            "url": absolute(summary.byline.url),
        }
    put(data, "image", [_image(image, absolute) for image in article.images])
    about = [{"@type": "Person", "name": p.title, "url": absolute(p.url)} for p in article.people]
    about += [{"@type": "Event", "name": e.title, "url": absolute(e.url)} for e in article.events]
    put(data, "about", about)
    put(data, "keywords", [t.name.text for t in summary.topics if t.name.text])
    if summary.issue is not None:
        data["isPartOf"] = _issue(summary.issue, absolute)
    return data


def open_graph(article: ArticleDetail, absolute: Absolute) -> OpenGraph:
    """The article's preview: its own language and address, whichever prefix it was read under."""
    summary = article.summary
    image = article.images[0] if article.images else None
    return OpenGraph(
        title=summary.title,
        url=absolute(summary.url),
        locale=summary.language,
        kind="article",
        description=summary.standfirst,
        alternate_locales=tuple(t.language for t in article.translations),
        image=absolute(image.url) if image else "",
        image_alt=(image.alt_text or image.caption) if image else "",
        published=_moment(summary.publish_at),
    )
