"""parse(): the publisher's WordPress feeds, Atom, RSS 1.0, other languages, text and date clean-up, images, ids."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicator.sources.feed import ParsedFeed, normalise_language, parse, parse_date

SITE = Path(__file__).resolve().parents[1] / "data" / "site"
FRONT = (SITE / "front-page.rss").read_bytes()
LATER = (SITE / "front-page-later.rss").read_bytes()


def rss(items: str, channel: str = "", *, lang: str = "en-US", decl: str = "UTF-8") -> bytes:
    return (
        f'<?xml version="1.0" encoding="{decl}"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:media="http://search.yahoo.com/mrss/">\n<channel>\n<title>Test feed</title>\n'
        f"<link>https://www.example.org/en</link>\n<language>{lang}</language>\n{channel}{items}</channel>\n</rss>\n"
    ).encode(decl if decl.lower() != "us-ascii" else "ascii")


def item(body: str) -> str:
    return f"<item>{body}</item>\n"


def one(data: bytes, **kwargs: str) -> ParsedFeed:
    kwargs.setdefault("feed", "t")
    return parse(data, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------
# The publisher's sample feeds


def test_front_page_feed() -> None:
    parsed = parse(FRONT, feed="en", base_url="https://www.nejatngo.org/en/feed/")
    assert parsed.title == "Nejat Society"
    assert parsed.language == "en"
    assert parsed.link == "https://www.nejatngo.org/en"
    assert parsed.self_url == "https://www.nejatngo.org/en/feed/"
    assert parsed.hub is None
    assert len(parsed.articles) == 10
    assert len({a.id for a in parsed.articles}) == 10

    first = parsed.articles[0]
    assert first.id == "https://www.nejatngo.org/en/?p=20100"
    assert first.feed == "en"
    assert first.url == "https://www.nejatngo.org/en/the-story-of-torabi-family-torn-apart-by-the-mek/"
    assert first.title == "The story of Torabi family; torn apart by the MEK"
    assert first.summary.startswith("The Torabis are from a village near Gaz port in Golestan province")
    assert first.summary.endswith("before they could be able to visit their beloved…")  # "[…]" → "…"
    assert "[" not in first.summary and "\n" not in first.summary
    assert first.content_html.startswith("<p>The Torabis are from a village")
    assert first.content_html.rstrip().endswith("other radicalized female members of the group.</p>")
    assert first.categories == ("The cult of Rajavi",)
    assert first.language == "en"
    assert first.author == "Nejat Society"
    assert first.published == datetime(2022, 1, 3, 9, 30, tzinfo=UTC)
    assert first.published.tzinfo is UTC
    assert first.updated is None
    assert first.image_url == "https://www.nejatngo.org/en/wp-content/uploads/2022/01/mek-and-family-divorce.jpg"

    second = parsed.articles[1]
    assert second.title == "Testimonies of the MEK’s Child Soldiers"  # typographic apostrophe kept
    assert second.id == "https://www.nejatngo.org/en/?p=20093"

    digest = parsed.articles[2]
    assert digest.title == "Iran Interlink Weekly Digest – 306"
    assert digest.published == datetime(2022, 1, 2, 11, 30, tzinfo=UTC)

    families = parsed.articles[7]
    assert families.categories == ("Mujahedin Khalq Organization members' families",)
    assert families.summary == (
        "Soraya Abdollahi blew out the candles on the birthday cake of her son, Amir Aslan who has been taken as "
        "a hostage by the Mujahedin Khalq (the MEK/ the Cult of Rajavi) for 20 years."
    )
    last = parsed.articles[-1]
    assert last.id == "https://www.nejatngo.org/en/?p=20037"
    assert last.published == datetime(2021, 12, 23, 10, 30, tzinfo=UTC)
    for article in parsed.articles:
        assert article.url.startswith("https://www.nejatngo.org/en/") and article.url.endswith("/")
        assert article.image_url and article.image_url.endswith(".jpg")
        assert len(article.categories) == 1 and article.content_html and article.summary


def test_later_feed_has_exactly_five_new_posts_without_body() -> None:
    before = parse(FRONT, feed="en")
    after = parse(LATER, feed="en")
    assert len(after.articles) == 10
    known = {a.id for a in before.articles}
    new = [a for a in after.articles if a.id not in known]
    assert [a.id for a in new] == [f"https://www.nejatngo.org/en/?p={n}" for n in (31400, 31391, 31382, 31373, 31364)]
    for article in new:
        assert article.title and article.url.startswith("https://www.nejatngo.org/en/")
        assert article.summary == "" and article.content_html == "" and article.categories == ()
        assert article.image_url is None
        assert article.published is not None and article.published.year == 2025
    assert new[0].title == "Pregnancy was taboo in the MEK"
    assert new[0].published == datetime(2025, 12, 22, 8, 30, tzinfo=UTC)
    # the five kept old items are the same articles, byte for byte
    old = {a.id: a for a in before.articles}
    for article in after.articles[5:]:
        assert article == old[article.id]


def test_language_argument_overrides_the_feed() -> None:
    parsed = parse(FRONT, feed="en", language="EN-gb")
    assert parsed.language == "en"
    parsed = parse(FRONT, feed="x", language="fa")
    assert parsed.language == "fa" and {a.language for a in parsed.articles} == {"fa"}


# ---------------------------------------------------------------------------------------------------------------
# Atom and RSS 1.0

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/" xml:lang="sq-AL"
      xml:base="https://www.example.org/sq/">
  <title type="html">Shoqata &lt;b&gt;Nejat&lt;/b&gt;</title>
  <link rel="alternate" type="text/html" href="/sq/"/>
  <link rel="self" href="https://www.example.org/sq/feed/atom/"/>
  <link rel="hub" href="https://pubsubhubbub.appspot.com/"/>
  <author><name>Redaksia</name></author>
  <id>tag:example.org,2025:/sq</id>
  <updated>2025-12-22T10:00:00Z</updated>
  <entry>
    <title type="text">Familjet k\xc3\xabrkojn\xc3\xab takim &amp; drejt\xc3\xabsi</title>
    <link rel="alternate" type="text/html" href="familjet-kerkojne-takim/?utm_source=rss&amp;utm_medium=atom"/>
    <link rel="enclosure" type="image/jpeg" href="/sq/wp-content/uploads/2025/12/familjet.jpg"/>
    <id>https://www.example.org/sq/?p=31500</id>
    <published>2025-12-22T09:30:00+01:00</published>
    <updated>2025-12-22T11:00:00.250+01:00</updated>
    <category term="Familjet" label="Familjet e an\xc3\xabtar\xc3\xabve"/>
    <category term="Shqip\xc3\xabri"/>
    <category term="Familjet"/>
    <summary type="html">&lt;p&gt;P\xc3\xabrmbledhje e &lt;em&gt;shkurt\xc3\xabr&lt;/em&gt;.&lt;/p&gt;</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Teksti <b>i plot\xc3\xab</b>.</p></div></content>
  </entry>
  <entry xml:lang="en">
    <title type="html">An English &amp;amp; entry</title>
    <link href="https://WWW.Example.org:443/en/english-entry/#comments"/>
    <id>urn:uuid:60a76c80-d399-11d9-b91C-0003939e0af6</id>
    <updated>2025-12-21T08:00:00Z</updated>
    <author><name>Jane Doe</name><email>jane@example.org</email></author>
    <content type="html">&lt;p&gt;Body with &lt;img src="/img/a.png?w=600&amp;amp;h=300"&gt;
      an image.&lt;/p&gt;</content>
  </entry>
</feed>"""


def test_atom_feed() -> None:
    parsed = parse(ATOM, feed="sq", base_url="https://www.example.org/sq/feed/atom/")
    assert parsed.title == "Shoqata Nejat"
    assert parsed.language == "sq"
    assert parsed.link == "https://www.example.org/sq/"
    assert parsed.self_url == "https://www.example.org/sq/feed/atom/"
    assert parsed.hub == "https://pubsubhubbub.appspot.com/"
    first, second = parsed.articles
    assert first.id == "https://www.example.org/sq/?p=31500"
    assert first.url == "https://www.example.org/sq/familjet-kerkojne-takim/"  # xml:base, utm_* removed
    assert first.title == "Familjet kërkojnë takim & drejtësi"
    assert first.summary == "Përmbledhje e shkurtër."
    assert first.content_html == "<p>Teksti <b>i plotë</b>.</p>"
    assert first.categories == ("Familjet", "Shqipëri")  # term preferred, de-duplicated, order kept
    assert first.language == "sq"
    assert first.author == "Redaksia"  # inherited from the feed
    assert first.published == datetime(2025, 12, 22, 8, 30, tzinfo=UTC)
    assert first.updated == datetime(2025, 12, 22, 10, 0, 0, 250000, tzinfo=UTC)
    assert first.image_url == "https://www.example.org/sq/wp-content/uploads/2025/12/familjet.jpg"

    assert second.id == "urn:uuid:60a76c80-d399-11d9-b91C-0003939e0af6"
    assert second.url == "https://www.example.org/en/english-entry/"  # host lowercased, :443 and #fragment gone
    assert second.title == "An English & entry"
    assert second.language == "en"  # the entry's own xml:lang
    assert second.author == "Jane Doe"
    assert second.published is None  # Atom entries without <published>: only `updated` is known
    assert second.updated == datetime(2025, 12, 21, 8, 0, tzinfo=UTC)
    assert second.summary == "Body with an image."  # from the content
    assert second.image_url == "https://www.example.org/img/a.png?w=600&h=300"  # query kept


RSS1 = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel rdf:about="https://www.example.org/ar/feed/rdf/">
    <title>\xd8\xac\xd9\x85\xd8\xb9\xdb\x8c\xd8\xaa \xd9\x86\xd8\xac\xd8\xa7\xd8\xaa</title>
    <link>https://www.example.org/ar/</link>
    <description>Arabic edition</description>
    <dc:language>ar</dc:language>
    <items><rdf:Seq><rdf:li rdf:resource="https://www.example.org/ar/post-1/"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://www.example.org/ar/post-1/">
    <title>\xd8\xb9\xd9\x86\xd9\x88\xd8\xa7\xd9\x86 \xd8\xa7\xd9\x84\xd9\x85\xd9\x82\xd8\xa7\xd9\x84</title>
    <link>https://www.example.org/ar/post-1/?fbclid=abc&amp;p=7</link>
    <description>\xd9\x85\xd9\x84\xd8\xae\xd8\xb5 [&#8230;]</description>
    <dc:creator>\xd8\xa7\xd9\x84\xd9\x85\xd8\xad\xd8\xb1\xd8\xb1</dc:creator>
    <dc:date>2025-12-20T12:00:00+03:00</dc:date>
    <dc:subject>\xd8\xa3\xd8\xae\xd8\xa8\xd8\xa7\xd8\xb1</dc:subject>
    <content:encoded><![CDATA[<p><img src="https://cdn.example.org/i.jpg?resize=1200%2C630&amp;ssl=1" /></p>]]>
    </content:encoded>
  </item>
  <item rdf:about="https://www.example.org/ar/post-2/">
    <title>Second</title>
    <link>https://www.example.org/ar/post-2/</link>
  </item>
</rdf:RDF>"""


def test_rss1_rdf_feed() -> None:
    parsed = parse(RSS1, feed="ar")
    assert parsed.title == "جمعیت نجات"
    assert parsed.language == "ar"
    assert parsed.link == "https://www.example.org/ar/"
    first, second = parsed.articles
    assert first.id == "https://www.example.org/ar/post-1/"  # rdf:about
    assert first.url == "https://www.example.org/ar/post-1/?p=7"  # fbclid removed, p kept
    assert first.title == "عنوان المقال"
    assert first.summary == "ملخص…"  # the feed's "[…]" said it was cut
    assert first.author == "المحرر"
    assert first.categories == ("أخبار",)
    assert first.language == "ar"
    assert first.published == datetime(2025, 12, 20, 9, 0, tzinfo=UTC)
    assert first.image_url == "https://cdn.example.org/i.jpg?resize=1200%2C630&ssl=1"
    assert second.title == "Second" and second.summary == "" and second.published is None


# ---------------------------------------------------------------------------------------------------------------
# The other editions: Farsi, Arabic, Albanian

FA_TITLE = "زنان در فرقه\u200cی رجوی"  # with a zero-width non-joiner, which must survive


@pytest.mark.parametrize(
    ("declared", "expected"), [("fa-IR", "fa"), ("ar", "ar"), ("sq_AL", "sq"), ("fa", "fa"), ("per", "fa")]
)
def test_language_of_the_feed(declared: str, expected: str) -> None:
    parsed = one(rss(item(f"<title>{FA_TITLE}</title><link>https://www.example.org/fa/?p=1</link>"), lang=declared))
    assert parsed.language == expected
    assert parsed.articles[0].language == expected


def test_xml_lang_when_there_is_no_language_element() -> None:
    data = (
        '<rss version="2.0" xml:lang="fa-IR"><channel><title>نجات</title>'
        f"<item><title>{FA_TITLE}</title><link>https://www.example.org/fa/%D8%B2%D9%86%D8%A7%D9%86/</link>"
        '<category>زنان</category><category domain="post_tag">زنان</category>'
        "<description>&lt;p&gt;متن\u200cها&amp;nbsp;و  ...&lt;/p&gt;</description></item>"
        '<item xml:lang="sq"><title>Gratë në sektin e Rexhavit</title><link>https://www.example.org/sq/gra/</link></item>'
        "</channel></rss>"
    ).encode()
    parsed = one(data)
    assert parsed.language == "fa"
    farsi, albanian = parsed.articles
    assert farsi.title == FA_TITLE and "\u200c" in farsi.title
    assert farsi.categories == ("زنان",)
    assert farsi.summary == "متن\u200cها و ..."
    assert farsi.url == "https://www.example.org/fa/%D8%B2%D9%86%D8%A7%D9%86/"
    assert farsi.language == "fa"
    assert albanian.language == "sq" and albanian.title == "Gratë në sektin e Rexhavit"


def test_raw_unicode_and_percent_encoded_links_give_the_same_url() -> None:
    raw = one(rss(item("<title>a</title><link>https://www.example.org/fa/زنان/</link>")))
    encoded = one(rss(item("<title>a</title><link>https://www.example.org/fa/%d8%b2%d9%86%d8%a7%d9%86/</link>")))
    assert raw.articles[0].url == encoded.articles[0].url == "https://www.example.org/fa/%D8%B2%D9%86%D8%A7%D9%86/"


@pytest.mark.parametrize(
    ("raw", "code"),
    [("en-US", "en"), ("EN", "en"), ("fa_IR", "fa"), ("ar-SA", "ar"), ("sq", "sq"), ("Persian", "fa"),
     ("alb", "sq"), ("zh-Hant-TW", "zh"), ("", ""), ("x-default", ""), ("123", ""), ("  de-DE ", "de")],
)  # fmt: skip
def test_normalise_language(raw: str, code: str) -> None:
    assert normalise_language(raw) == code


# ---------------------------------------------------------------------------------------------------------------
# Text: HTML in titles, entities, whitespace, boilerplate, summaries from content


@pytest.mark.parametrize(
    ("title_xml", "expected"),
    [
        ("Plain title", "Plain title"),
        ("  Spaced\n\t  out   title  ", "Spaced out title"),
        ("AT&amp;T &amp; friends", "AT&T & friends"),
        ("It&#8217;s &#x201C;quoted&#x201D;", "It’s “quoted”"),
        ("Double &amp;amp; escaped &amp;#8217;", "Double & escaped ’"),
        ("&lt;b&gt;Bold&lt;/b&gt; move", "Bold move"),
        ("&amp;lt;em&amp;gt;Twice&amp;lt;/em&amp;gt; escaped", "Twice escaped"),
        ("<![CDATA[<strong>In</strong> CDATA &amp; <a href='x'>link</a>]]>", "In CDATA & link"),
        ("A&amp;nbsp;B&amp;nbsp;&amp;nbsp;C", "A B C"),
        ("Why 3 &lt; 4 matters", "Why 3 < 4 matters"),
        ("<![CDATA[Title with <br/>break]]>", "Title with break"),
    ],
)
def test_title_text(title_xml: str, expected: str) -> None:
    parsed = one(rss(item(f"<title>{title_xml}</title><link>https://www.example.org/x/</link>")))
    assert parsed.articles[0].title == expected


def test_html_entities_undefined_in_xml_are_decoded() -> None:
    data = rss(item("<title>Caf&eacute;&nbsp;&mdash; news&hellip;</title><link>https://www.example.org/c/</link>"))
    assert one(data).articles[0].title == "Café — news…"


def test_summary_boilerplate_is_removed() -> None:
    description = (
        "&lt;p&gt;The first paragraph of the post.&lt;/p&gt;&lt;p&gt;The post &lt;a href='https://x/a/'&gt;"
        "A title&lt;/a&gt; appeared first on &lt;a href='https://x/'&gt;Nejat Society&lt;/a&gt;.&lt;/p&gt;"
    )
    parsed = one(rss(item(f"<title>t</title><link>https://x.org/a/</link><description>{description}</description>")))
    assert parsed.articles[0].summary == "The first paragraph of the post."
    more = (
        "Some text &amp;#8230; &lt;a class='more-link' href='https://x/a/'&gt;Continue reading "
        "&lt;span&gt;A&lt;/span&gt; &amp;#8594;&lt;/a&gt;"
    )
    parsed = one(rss(item(f"<title>t</title><link>https://x.org/a/</link><description>{more}</description>")))
    assert parsed.articles[0].summary == "Some text …"


def test_summary_from_content_when_there_is_no_description() -> None:
    words = " ".join(f"word{i}" for i in range(200))
    content = f"<![CDATA[<script>var x = 1;</script><p>{words}</p><p>The post X appeared first on Y.</p>]]>"
    parsed = one(
        rss(
            item(
                f"<title>t</title><link>https://x.org/a/</link><description></description>"
                f"<content:encoded>{content}</content:encoded>"
            )
        )
    )
    article = parsed.articles[0]
    assert article.content_html.startswith("<script>var x = 1;</script><p>word0 word1")
    assert 250 <= len(article.summary) <= 300
    assert article.summary.startswith("word0 word1 word2")
    assert article.summary.endswith("…")
    assert article.summary.split()[-1].removesuffix("…") in words.split()  # cut at a word boundary
    body = "&lt;p&gt;Short &amp;amp; sweet.&lt;/p&gt;&lt;p&gt;The post B appeared first on Y.&lt;/p&gt;"
    short = one(rss(item(f"<title>t</title><link>https://x.org/b/</link><content:encoded>{body}</content:encoded>")))
    assert short.articles[0].summary == "Short & sweet."


def test_excerpt_is_cut_as_a_post_is_cut() -> None:
    # the one word-boundary cut (render.text.truncate): never inside a URL, no dangling "." before the "…"
    url = "https://www.example.org/a/long/path/" + "x" * 40
    text = "word " * 50 + "End of sentence. " + url + " more words after it " * 5
    body = f"<![CDATA[<p>{text}</p>]]>"
    article = one(rss(item(f"<title>t</title><link>https://x.org/a/</link><content:encoded>{body}</content:encoded>")))
    summary = article.articles[0].summary
    assert summary == "word " * 49 + "word End of sentence…"


def test_summary_text_is_the_shared_parse_of_the_markup() -> None:
    # the text a post shows for the same markup (render.html_text), then ingest's own repairs and clean-up
    description = (
        "&lt;p&gt;safe&lt;iframe src='https://x.org/'&gt;fallback&lt;/iframe&gt; &lt;svg&gt;&lt;title&gt;tree"
        "&lt;/title&gt;&lt;/svg&gt;un&lt;b&gt;believ&lt;/b&gt;able caf\u00c3\u00a9&lt;/p&gt;&lt;!-- never closed"
    )
    parsed = one(rss(item(f"<title>t</title><link>https://x.org/a/</link><description>{description}</description>")))
    assert parsed.articles[0].summary == "safe unbelievable café"


def test_categories_decoded_deduplicated_in_order() -> None:
    cats = (
        "<category><![CDATA[News &amp; Views]]></category><category>Albania</category>"
        "<category domain='post_tag'>albania</category><dc:subject>Human rights</dc:subject>"
        "<category>News &amp;amp; Views</category><category>  </category>"
    )
    parsed = one(rss(item(f"<title>t</title><link>https://x.org/a/</link>{cats}")))
    assert parsed.articles[0].categories == ("News & Views", "Albania", "Human rights")


@pytest.mark.parametrize(
    ("author_xml", "expected"),
    [
        ("<author>jane@example.org (Jane Doe)</author>", "Jane Doe"),
        ("<author>Jane Doe &lt;jane@example.org&gt;</author>", "Jane Doe"),
        ("<dc:creator><![CDATA[Nejat Society]]></dc:creator>", "Nejat Society"),
        ("<dc:creator>A</dc:creator><dc:creator>B</dc:creator>", "A, B"),
        ("", ""),
    ],
)
def test_author(author_xml: str, expected: str) -> None:
    assert one(rss(item(f"<title>t</title><link>https://x.org/a/</link>{author_xml}"))).articles[0].author == expected


# ---------------------------------------------------------------------------------------------------------------
# Dates


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mon, 03 Jan 2022 09:30:00 +0000", datetime(2022, 1, 3, 9, 30)),
        ("Mon, 03 Jan 2022 09:30:00 GMT", datetime(2022, 1, 3, 9, 30)),
        ("Mon, 3 Jan 2022 09:30:00 +0330", datetime(2022, 1, 3, 6, 0)),
        ("Mon, 03 Jan 2022 09:30:00 EST", datetime(2022, 1, 3, 14, 30)),
        ("Mon, 03 Jan 2022 09:30:00 PDT", datetime(2022, 1, 3, 16, 30)),
        ("Mon, 03 Jan 2022 09:30:00 IRST", datetime(2022, 1, 3, 6, 0)),
        ("Mon, 03 Jan 2022 09:30 +0100", datetime(2022, 1, 3, 8, 30)),
        ("03 Jan 2022 09:30:00 Z", datetime(2022, 1, 3, 9, 30)),
        ("Mon,03 Jan 22 09:30:00 -0500", datetime(2022, 1, 3, 14, 30)),
        ("Monday, 03 January 2022 09:30:00 +0000", datetime(2022, 1, 3, 9, 30)),
        ("Mon, 03 Jan 2022 09:30:00 GMT+2", datetime(2022, 1, 3, 7, 30)),
        ("Mon, 03 Jan 2022 09:30:00 UTC+03:30", datetime(2022, 1, 3, 6, 0)),
        ("Mon Jan  3 09:30:00 2022", datetime(2022, 1, 3, 9, 30)),
        ("January 3, 2022 9:30 pm", datetime(2022, 1, 3, 21, 30)),
        ("3 Dec. 2021 12:00:00 +0000", datetime(2021, 12, 3, 12, 0)),
        ("Mon, 03 Jan 2022", datetime(2022, 1, 3, 0, 0)),
        ("Di, 04 Jan 2022 10:00:00 +0100", datetime(2022, 1, 4, 9, 0)),
        ("4 janv. 2022 10:00:00 +0100", datetime(2022, 1, 4, 9, 0)),
        ("2022-01-03T09:30:00Z", datetime(2022, 1, 3, 9, 30)),
        ("2022-01-03T09:30:00+03:30", datetime(2022, 1, 3, 6, 0)),
        ("2022-01-03T09:30:00.123456-05:00", datetime(2022, 1, 3, 14, 30, 0, 123456)),
        ("2022-01-03 09:30:00", datetime(2022, 1, 3, 9, 30)),
        ("2022-01-03", datetime(2022, 1, 3)),
        ("20220103T093000Z", datetime(2022, 1, 3, 9, 30)),
        ("2022-01-03T09:30+0100", datetime(2022, 1, 3, 8, 30)),
        ("2003-12", datetime(2003, 12, 1)),
        ("2022-01-03T24:00:00Z", datetime(2022, 1, 4)),
        ("Sat, 31 Dec 2016 23:59:60 +0000", datetime(2016, 12, 31, 23, 59, 59)),
    ],
)
def test_dates(raw: str, expected: datetime) -> None:
    parsed = parse_date(raw)
    assert parsed == expected.replace(tzinfo=UTC)
    assert parsed is not None and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "raw", ["", "   ", "not a date", "Mon, 32 Jan 2022 09:30:00 GMT", "2022-13-45", "Foo, 03 Bar 2022", "x" * 1000]
)
def test_bad_dates_are_none(raw: str) -> None:
    assert parse_date(raw) is None


def test_item_dates_fall_back_and_bad_ones_are_none() -> None:
    items = (
        item("<title>a</title><link>https://x.org/a/</link><dc:date>2025-12-20T12:00:00Z</dc:date>")
        + item("<title>b</title><link>https://x.org/b/</link><pubDate>garbage</pubDate>")
        + item("<title>c</title><link>https://x.org/c/</link>")
        + item(
            "<title>d</title><link>https://x.org/d/</link><pubDate>Sat, 20 Dec 2025 12:00:00 +0000</pubDate>"
            "<atom:updated>2025-12-21T12:00:00Z</atom:updated>"
        )
    )
    a, b, c, d = one(rss(items)).articles
    assert a.published == datetime(2025, 12, 20, 12, tzinfo=UTC)
    assert b.published is None and c.published is None
    assert d.updated == datetime(2025, 12, 21, 12, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------------------------
# Images


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ('<media:content url="https://x.org/m.jpg" medium="image"/>', "https://x.org/m.jpg"),
        ('<media:content url="https://x.org/m" type="image/webp"/>', "https://x.org/m"),
        ('<media:content url="https://x.org/v.mp4" medium="video"><media:thumbnail url="https://x.org/t.jpg"/>'
         "</media:content>", "https://x.org/t.jpg"),
        ('<media:group><media:content url="https://x.org/g.png" medium="image"/></media:group>', "https://x.org/g.png"),
        ('<media:thumbnail url="/thumb.jpg"/>', "https://www.example.org/thumb.jpg"),
        ('<enclosure url="https://x.org/e.jpg" length="1" type="image/jpeg"/>', "https://x.org/e.jpg"),
        ('<enclosure url="https://x.org/a.mp3" length="1" type="audio/mpeg"/>', None),
        ("<content:encoded><![CDATA[<p><img class='emoji' src='https://s.w.org/images/core/emoji/15/svg/1f600.svg'>"
         "<img src='data:image/gif;base64,R0l' data-lazy-src='/wp-content/uploads/lazy.jpg?w=800#x'></p>]]>"
         "</content:encoded>", "https://www.example.org/wp-content/uploads/lazy.jpg?w=800"),
        ("<description>&lt;img src=\"//cdn.x.org/d.jpg?utm_source=keep&amp;amp;ref=keep\"&gt;</description>",
         "https://cdn.x.org/d.jpg?utm_source=keep&ref=keep"),
        ("<content:encoded>&lt;p&gt;no image&lt;/p&gt;</content:encoded>", None),
    ],
)  # fmt: skip
def test_image(xml: str, expected: str | None) -> None:
    data = rss(item(f"<title>t</title><link>https://www.example.org/a/</link>{xml}"))
    assert parse(data, feed="t", base_url="https://www.example.org/feed/").articles[0].image_url == expected


def test_media_image_wins_over_enclosure_and_content() -> None:
    xml = (
        '<enclosure url="https://x.org/e.jpg" type="image/jpeg"/>'
        "<content:encoded><![CDATA[<img src='https://x.org/c.jpg'>]]></content:encoded>"
        '<media:content url="https://x.org/m.jpg" medium="image"/>'
    )
    assert one(rss(item(f"<title>t</title><link>https://x.org/a/</link>{xml}"))).articles[0].image_url == (
        "https://x.org/m.jpg"
    )


# ---------------------------------------------------------------------------------------------------------------
# Identity


def test_ids_and_links() -> None:
    items = (
        item("<title>guid url</title><link>https://x.org/a/</link>"
             "<guid>HTTPS://WWW.X.ORG:443/a/?utm_source=feed&amp;p=5#c</guid>")
        + item("<title>wp</title><link>https://x.org/b/</link><guid isPermaLink='false'>https://x.org/?p=20100</guid>")
        + item("<title>opaque</title><link>https://x.org/c/</link><guid isPermaLink='false'> tag:x.org,2025:c </guid>")
        + item("<title>no guid</title><link>https://x.org/d/?utm_campaign=z&amp;gclid=1</link>")
        + item("<title>permalink guid only</title><guid>https://x.org/e/</guid>")
        + item("<title>relative</title><link>/f/</link>")
        + item("<title>only a title</title><pubDate>Sat, 20 Dec 2025 12:00:00 +0000</pubDate>")
    )  # fmt: skip
    a, b, c, d, e, f, g = parse(rss(items), feed="t", base_url="https://x.org/feed/").articles
    assert a.id == "https://www.x.org/a/?p=5#c"  # an id keeps its fragment: it may be all that tells entries apart
    assert b.id == "https://x.org/?p=20100" and b.url == "https://x.org/b/"
    assert c.id == "tag:x.org,2025:c"
    assert d.id == d.url == "https://x.org/d/"
    assert e.id == e.url == "https://x.org/e/"
    assert f.url == "https://x.org/f/"
    assert g.url == "" and g.id.startswith("sha256:")
    again = parse(rss(items), feed="t", base_url="https://x.org/feed/").articles[-1]
    assert again.id == g.id  # stable across polls


def test_duplicate_entries_keep_the_first() -> None:
    items = (
        item("<title>first</title><link>https://x.org/a/</link><guid>https://x.org/?p=1</guid>")
        + item("<title>other</title><link>https://x.org/b/</link>")
        + item("<title>second copy</title><link>https://x.org/a2/</link><guid>https://x.org/?p=1</guid>")
        + item("<title>b again</title><link>https://x.org/b/?utm_source=x</link>")
    )
    parsed = one(rss(items))
    assert [a.title for a in parsed.articles] == ["first", "other"]


def test_empty_feed_is_an_empty_list() -> None:
    parsed = one(rss(""))
    assert parsed.articles == [] and parsed.title == "Test feed"
    atom = parse(b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Nothing yet</title></feed>', feed="t")
    assert atom.articles == [] and atom.title == "Nothing yet"


def test_items_with_nothing_to_identify_them_are_skipped() -> None:
    parsed = one(
        rss(item("<comments>https://x.org/c</comments>") + item("<title>t</title><link>https://x.org/a/</link>"))
    )
    assert [a.title for a in parsed.articles] == ["t"]


def test_json_feed() -> None:
    data = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "J", "home_page_url": "https://x.org/",
      "feed_url": "https://x.org/feed.json", "language": "fa-IR",
      "items": [{"id": "1", "url": "/a/?utm_source=x", "title": "T", "content_html": "<p>Hi <img src='i.png'></p>",
                 "date_published": "2025-12-20T12:00:00+01:00", "tags": ["a", "A", "b"],
                 "authors": [{"name": "N"}]},
                {"id": "1", "title": "dup"}, {"content_text": "x < y", "url": "https://x.org/b/"}]}"""
    parsed = parse(data, feed="j")
    assert parsed.title == "J" and parsed.language == "fa" and parsed.self_url == "https://x.org/feed.json"
    a, b = parsed.articles
    assert (a.id, a.url, a.title, a.summary, a.categories, a.author) == (
        "1",
        "https://x.org/a/",
        "T",
        "Hi",
        ("a", "b"),
        "N",
    )
    assert a.published == datetime(2025, 12, 20, 11, tzinfo=UTC) and a.image_url == "https://x.org/i.png"
    assert b.id == "https://x.org/b/" and b.content_html == "x &lt; y" and b.summary == "x < y"


def test_parse_is_safe_in_threads() -> None:
    expected = [a.id for a in parse(FRONT, feed="en").articles]
    results: list[list[str]] = []

    def work() -> None:
        for _ in range(20):
            results.append([a.id for a in parse(FRONT, feed="en").articles])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 80 and all(r == expected for r in results)


def test_entries_told_apart_only_by_their_ids_fragment_stay_two_articles() -> None:
    items = item("<title>first</title><link>https://x.org/live/</link><guid>https://x.org/live/#post-101</guid>")
    items += item("<title>second</title><link>https://x.org/live/</link><guid>https://x.org/live/#post-102</guid>")
    first, second = parse(rss(items), feed="t").articles
    assert first.id != second.id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("mardi, 25 nov 2025 10:00:00 +0100", datetime(2025, 11, 25, 9, 0, tzinfo=UTC)),
        ("martes, 25 nov 2025 10:00:00 +0100", datetime(2025, 11, 25, 9, 0, tzinfo=UTC)),
        ("e martë, 25 nëntor 2025 10:00 +0100", datetime(2025, 11, 25, 9, 0, tzinfo=UTC)),
    ],
)
def test_a_weekday_is_never_read_as_the_month(raw: str, expected: datetime) -> None:
    assert parse_date(raw) == expected
