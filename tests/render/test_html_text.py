"""The one HTML → text parse (render/html_text.py): what a reader sees, the same for posts and stored text, in
linear time whatever the markup."""

from __future__ import annotations

import time

import pytest

from syndicator.render import rich as rt
from syndicator.render.html_text import html_to_plain
from syndicator.render.text import html_to_rich, looks_like_html
from syndicator.sources.parse.text import _plain_or_html


def both(markup: str) -> tuple[str, str]:
    """The plain text, and the post's rich text flattened to one line: the two sides must read markup alike."""
    return html_to_plain(markup), " ".join(rt.plain(html_to_rich(markup)).split())


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        # entities: every HTML5 name, numeric references, a bare "&" and an unknown name as written
        (
            "AT&T &amp; R&amp;D &eacute;t&eacute; &#8217; &#x201C;q&#x201D; &nbsp;x &notaname;",
            "AT&T & R&D été ’ “q” x ¬aname;",
        ),
        # inline elements join, blocks, <br> and table cells separate
        ("un<b>believ</b>able <a href='/x'>link</a>", "unbelievable link"),
        ("<p>one</p><p>two</p>three<br>four<li>five</li><td>6</td><td>7</td>", "one two three four five 6 7"),
        ("<center>old</center>block", "old block"),
        # not text for a reader
        ("a<script>x()</script><style>p{}</style><!-- note -->b", "ab"),
        ("<head><title>Page</title></head><body>body</body>", "body"),
        ("safe<iframe src='https://x.org/'> fallback</iframe>", "safe"),
        ("<svg><title>picture</title><desc>of a tree</desc></svg>text", "text"),
        ("<figure><img src=x alt=photo><figcaption>caption</figcaption></figure>after", "after"),
        # text for a reader
        ("safe<object data='x.swf'> <b>fallback</b></object>", "safe fallback"),
        ("sum: <math><mi>a</mi><mo>+</mo><mi>b</mi></math>", "sum: a + b"),
        # broken markup, read as a browser would where that serves a reader
        ('<img alt="cat<br />dog" src="x.jpg">after', "after"),  # "<" inside a quoted attribute
        ("safe<!--", "safe"),  # an unterminated comment hides the rest
        ("a<!-- note --!>b", "ab"),
        ("sa<!-- -- x >fe<script>alert(1)</script>", "sa"),
        ("<!' <a href='foo'>", ""),  # a bogus comment, up to its ">"
        ('<a title="unterminated>rest <b>bold</b>', "rest bold"),  # a broken tag is dropped to its ">"
        ("Why a<b matters", "Why a<b matters"),  # a "<" no ">" follows is text
        ("3 < 4 and 5 > 2", "3 < 4 and 5 > 2"),
        ("<![foo x]>kept", "kept"),  # a marked section HTMLParser does not know: a bogus comment
        ("<p><b>unclosed <i>tags", "unclosed tags"),
    ],
)
def test_what_a_reader_sees(markup: str, text: str) -> None:
    assert both(markup) == (text, text)


def test_plain_text_is_not_cleaned_here() -> None:
    # each caller cleans its own way: ingest repairs C1 mojibake first (render would remove it), render NFCs
    assert html_to_plain("<p>don\x92t\u00ad</p>") == "don\x92t\u00ad"
    assert rt.plain(html_to_rich("<p>e\u0301\u00ad</p>")) == "é"


# CPython 3.11's HTMLParser.close() re-parses the rest from each following "<" after a construct the input never
# completes: 40 kB of "<a " took 34 s. Each of these is far larger and must stay far below a second.
QUADRATIC_IN_CLOSE = ["<a ", '<a href="', '<img alt="<b', "<a", "</a ", "<!--", "<!-- -- ", "<![CDATA[", "<!", "<?x"]


@pytest.mark.parametrize("unit", QUADRATIC_IN_CLOSE)
def test_unfinished_constructs_take_linear_time(unit: str) -> None:
    markup = "ok " + unit * (200_000 // len(unit))
    start = time.process_time()  # this process's CPU: other tests running beside it do not count
    plain = html_to_plain(markup)
    rich = html_to_rich(markup)
    assert time.process_time() - start < 1.5
    assert plain.startswith("ok") and rt.plain(rich).startswith("ok")


def test_deep_and_broken_nesting_takes_linear_time() -> None:
    # 10,000 open elements each: quadratic would be 10^8 steps (minutes); linear is a few tenths of a second
    for markup in ("<p>a" * 10_000, "<b><i>" * 10_000 + "x", "<div><span>" * 10_000, "</b>" * 10_000 + "x"):
        start = time.process_time()
        html_to_plain(markup)
        html_to_rich(markup)
        assert time.process_time() - start < 2, markup[:20]


def test_one_notion_of_markup_in_a_plain_field() -> None:
    # render (a stored title or summary holding markup) and ingest (a field escaped twice) use one tag list
    assert looks_like_html("<q>Quoted</q> says") and looks_like_html("<blockquote>x</blockquote>")
    assert _plain_or_html("&lt;blockquote&gt;Quoted&lt;/blockquote&gt; says", True) == "Quoted says"
    assert not looks_like_html("a < b and c > d") and _plain_or_html("a &lt; b", True) == "a < b"
