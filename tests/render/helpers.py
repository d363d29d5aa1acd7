"""Shared by the render tests: targets, sample articles, and an independent checker of Telegram HTML."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from lxml import etree

from syndicator.article import Article
from syndicator.config import TargetSettings
from syndicator.platforms.facebook.settings import FacebookSettings
from syndicator.platforms.settings import PlatformSettings
from syndicator.platforms.telegram.settings import TelegramSettings
from syndicator.platforms.twitter.settings import TwitterSettings
from syndicator.platforms.whatsapp.settings import WhatsAppSettings
from syndicator.render.options import RenderOptions

SAMPLE_FEED = Path(__file__).resolve().parents[2] / "syndicator" / "data" / "sample-feed.rss"
_NS = {
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
}


def target(platform: str, settings: dict[str, Any] | None = None, *, name: str = "", **render: Any) -> TargetSettings:
    defaults: dict[str, PlatformSettings] = {
        "twitter": TwitterSettings(),
        "telegram": TelegramSettings(chat="@example"),
        "facebook": FacebookSettings(page_id="1234"),
        "whatsapp": WhatsAppSettings(phone_number_id="5678", template="new_article"),
    }
    platform_settings = replace(defaults[platform], **(settings or {}))  # type: ignore[type-var]
    return TargetSettings(
        name=name or platform,
        platform=platform,
        settings=platform_settings,
        render=RenderOptions(**render),
    )


# The targets the golden files are made with: every platform's default, and the interesting variations.
GOLDEN_TARGETS: dict[str, TargetSettings] = {
    "x": target("twitter", name="x"),
    "x_utm": target(
        "twitter", name="x_utm", utm_source="x", utm_medium="social", utm_campaign="{feed}", hashtag_style="camel"
    ),
    "telegram": target("telegram", {"read_more_button": "Read more"}, name="telegram"),
    "telegram_text": target("telegram", name="telegram_text", image=False, max_hashtags=5),
    "facebook": target("facebook", name="facebook"),
    "facebook_photo": target("facebook", {"post_as": "photo"}, name="facebook_photo"),
    "whatsapp": target("whatsapp", name="whatsapp", utm_source="whatsapp"),
    "whatsapp_text": target("whatsapp", {"mode": "text", "template": ""}, name="whatsapp_text"),
}


def feed_articles() -> list[Article]:
    """The sample feed's items as Article values, read directly with lxml (not with the project's feed parser)."""
    tree = etree.parse(str(SAMPLE_FEED))
    out = []
    for item in tree.iter("item"):
        media = item.find("media:content", _NS)
        out.append(
            Article(
                id=item.findtext("guid") or "",
                feed="en",
                url=item.findtext("link") or "",
                title=item.findtext("title") or "",
                summary=item.findtext("description") or "",
                content_html=item.findtext("content:encoded", namespaces=_NS) or "",
                categories=tuple(c.text or "" for c in item.findall("category")),
                language="en",
                author=item.findtext("dc:creator", namespaces=_NS) or "",
                published=parsedate_to_datetime(item.findtext("pubDate") or ""),
                image_url=media.get("url") if media is not None else None,
            )
        )
    return out


_WHEN = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
_LONG_AR = " ".join(["تقرير مفصل عن الأوضاع الإنسانية في مخيم أشرف الثالث في ألبانيا"] * 6)
_TWENTY = tuple(f"وسم {i}" for i in range(1, 11)) + tuple(f"Tag number {i}" for i in range(1, 11))


def world_articles() -> list[Article]:
    """Arabic, Farsi, Albanian and awkward English articles written for these tests."""
    return [
        Article(
            id="ar-brands",
            feed="ar",
            url="https://www.nejatngo.org/ar/apple-iphone-16-dubai/",
            title="شركة Apple تطلق iPhone 16 Pro في دبي بسعر 4,999 درهم (رويترز)",
            summary="أعلنت Apple اليوم أن الهاتف سيتوفر بدءاً من 20 سبتمبر، وقالت إن Windows 11 لن يتأثر. "
            "التفاصيل على www.apple.com/ae وفي بيان الشركة.",
            categories=("تكنولوجيا", "Apple", "الإمارات العربية المتحدة"),
            language="ar",
            author="قسم الأخبار",
            published=_WHEN,
            image_url="https://www.nejatngo.org/ar/wp-content/uploads/2024/03/iphone.jpg",
        ),
        Article(
            id="ar-long",
            feed="ar",
            url="https://www.nejatngo.org/ar/%d8%aa%d9%82%d8%b1%d9%8a%d8%b1-%d9%85%d9%81%d8%b5%d9%84/",
            title=_LONG_AR,
            summary=" ".join(["وقال شهود عيان إن الأوضاع في المخيم تزداد سوءاً يوماً بعد يوم."] * 60),
            categories=_TWENTY,
            language="ar",
            published=_WHEN,
            image_url="https://www.nejatngo.org/ar/wp-content/uploads/2024/03/camp.jpg",
        ),
        Article(
            id="ar-markup",
            feed="ar",
            url="https://www.nejatngo.org/ar/?p=501",
            title="عاجل 🔴: مقتل 3 و*إصابة* 10 في <حادث> & _انفجار_ قرب بغداد 🇮🇶",
            summary="",
            categories=("عاجل", "العراق", "123"),
            language="ar",
            published=_WHEN,
        ),
        Article(
            id="ar-content-only",
            feed="ar",
            url="https://www.nejatngo.org/ar/?p=502",
            title="عائلات أعضاء مجاهدي خلق تطالب بلقاء أبنائها",
            summary="",
            content_html="<p>طالبت <strong>عائلات</strong> أعضاء منظمة مجاهدي خلق (MEK) في رسالة إلى "
            "<a href='/ar/un/'>الأمم المتحدة</a> بلقاء أبنائها.</p><p><img src='x.jpg'>الفقرة الثانية.</p>"
            "<script>alert(1)</script><p>الفقرة الثالثة &amp; الأخيرة.</p>",
            categories=("عائلات", "حقوق الإنسان"),
            language="ar",
            author="Nejat Society",
            published=_WHEN,
            image_url="/ar/wp-content/uploads/2024/03/families.jpg",
        ),
        Article(
            id="fa-zwnj",
            feed="fa",
            url="https://www.nejatngo.org/fa/گزارش-نیم‌فاصله/",
            title="گزارش سازمان ملل درباره MEK در سال ۱۴۰۲: «می‌خواهیم فرزندانمان را ببینیم»",
            summary="خانواده‌های اعضای سازمان مجاهدین خلق بار دیگر در مقابل کمپ اشرف ۳ در تیرانا تجمع کردند.",
            categories=("نیم‌فاصله", "حقوق بشر", "سازمان مجاهدین خلق (MEK)", "۱۴۰۲", "2024", "حقوق بشر"),
            language="fa",
            author="انجمن نجات",
            published=_WHEN,
            image_url="https://www.nejatngo.org/fa/wp-content/uploads/2024/03/ashraf3.jpg",
        ),
        Article(
            id="fa-long-word",
            feed="fa",
            url="https://www.nejatngo.org/fa/?p=777&lang=fa#comments",
            title="واژه‌ی " + "بسیاربلندبدونفاصله" * 25 + " در یک عنوان",
            summary="متن کوتاه با COVID-19 و 5G و ایمیل info@nejatngo.org.",
            categories=("زبان فارسی",),
            language="fa",
            published=_WHEN,
        ),
        Article(
            id="fa-emoji",
            feed="fa",
            url="https://www.nejatngo.org/fa/?p=778",
            title="👨‍👩‍👧 خانواده‌ها ❤️ در 🇦🇱 آلبانی منتظرند 👍🏽 — Nejat Society گزارش می‌دهد",
            summary="",
            categories=(),
            language="fa",
            published=_WHEN,
        ),
        Article(
            id="sq-basic",
            feed="sq",
            url="https://www.nejatngo.org/sq/cfare-ndodhi-ne-tirane/",
            title="Çfarë ndodhi në Tiranë? Ëndrra e një familjeje për t'u ribashkuar",
            summary="Familjarët e anëtarëve të MEK-ut kërkojnë përsëri takim me fëmijët e tyre në kampin "
            "e Manzës, Durrës. Përçarja vazhdon që nga viti 2013.",
            categories=("Shqipëri", "Të drejtat e njeriut", "Marrëdhënie Shqipëri-Iran"),
            language="sq",
            author="Shoqata Nexhat",
            published=_WHEN,
            image_url="https://www.nejatngo.org/sq/wp-content/uploads/2024/03/manze.jpg",
        ),
        Article(
            id="sq-long",
            feed="sq",
            url="https://www.nejatngo.org/sq/?p=9001&utm_source=old",
            title=" ".join(["Përçarja e familjeve shqiptare dhe iraniane në kampin e Manzës"] * 5),
            summary=" ".join(["Çdo javë, familjet ëndërrojnë të takojnë të afërmit e tyre & presin <përgjigje>."] * 20),
            categories=("Shqipëri",) * 3 + ("Lajme",),
            language="sq",
            published=_WHEN,
        ),
        Article(
            id="en-markup",
            feed="en",
            url="https://www.nejatngo.org/en/?p=42#top",
            title="Tom & Jerry <3 *bold* _it_ C++ &amp; #1 news",
            summary="<p>Some <b>bold</b> &amp; <i>italic</i> text with a <a href='https://example.org/x?a=1&b=2'>link"
            "</a> and <span style='x'>span</span>.<br>Second line</p><ul><li>one</li><li>two</li></ul>",
            categories=_TWENTY,
            language="en",
            author="A. Writer",
            published=_WHEN,
        ),
        Article(
            id="en-long-word",
            feed="en",
            url="https://www.nejatngo.org/en/" + "very-long-slug-" * 20 + "end/",
            title="Pneumonoultramicroscopicsilicovolcanoconiosis" * 8,
            summary="Short.",
            categories=("Health", "Words & Language", "2022"),
            language="en",
            published=_WHEN,
        ),
        Article(
            id="en-empty",
            feed="en",
            url="https://www.nejatngo.org/en/?p=43",
            title="",
            summary="",
            language="en",
        ),
    ]


class TelegramHtmlChecker(HTMLParser):
    """Telegram's HTML rules, written independently of the renderer: only its tags (a with href only), properly
    nested and closed, and no entity but &lt; &gt; &amp; &quot; and numeric ones."""

    ALLOWED = frozenset(
        [
            "b",
            "strong",
            "i",
            "em",
            "u",
            "ins",
            "s",
            "strike",
            "del",
            "a",
            "code",
            "pre",
            "blockquote",
            "tg-spoiler",
            "span",
            "tg-emoji",
        ]
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.ALLOWED:
            self.problems.append(f"tag <{tag}>")
        if tag == "a" and [k for k, _ in attrs] != ["href"]:
            self.problems.append(f"a attributes {attrs}")
        if tag != "a" and attrs:
            self.problems.append(f"attributes on <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unbalanced </{tag}> (open: {self.stack})")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.problems.append(f"raw < or > in {data!r}")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.problems.append(f"entity &{name};")
        self.text.append({"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(name, ""))

    def handle_charref(self, name: str) -> None:
        self.text.append(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))


_BARE_AMP = re.compile(r"&(?!(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);)")


def telegram_problems(html_text: str) -> tuple[list[str], str]:
    """(problems, the text Telegram would show)."""
    checker = TelegramHtmlChecker()
    if _BARE_AMP.search(html_text):
        checker.problems.append("bare &")
    checker.feed(html_text)
    checker.close()
    if checker.stack:
        checker.problems.append(f"unclosed {checker.stack}")
    return checker.problems, "".join(checker.text)


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
