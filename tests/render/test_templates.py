from __future__ import annotations

import pytest

from syndicator.config import parse as parse_config
from syndicator.errors import ConfigError
from syndicator.render.options import RenderOptions
from syndicator.render.templates import Field, parse


def test_parse_lines_fields_and_styles() -> None:
    template = parse("{title:bold,link} {{x}}\n\nBy {author}")
    assert template.lines == (
        (Field("title", frozenset({"bold", "link"})), " {x}"),
        (),
        ("By ", Field("author")),
    )
    assert template.fields == {"title", "author"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{titel}", "unknown placeholder {titel}"),
        ("{title", "template syntax error"),
        ("title}", "template syntax error"),
        ("{}", "empty placeholder"),
        ("{0}", "unknown placeholder {0}"),
        ("{title.upper}", "unknown placeholder"),
        ("{title!r}", "conversions are not supported"),
        ("{title:shout}", "unknown style shout"),
        ("{title:{summary}}", "unknown style"),
        ("no placeholders at all", "no placeholder"),
    ],
)
def test_template_errors(source: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}").replace(".", r"\.")):
        parse(source)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"template": "{nope}"}, "unknown placeholder"),
        ({"max_hashtags": -1}, "max_hashtags"),
        ({"max_hashtags": 31}, "max_hashtags"),
        ({"summary_max_chars": -5}, "summary_max_chars"),
        ({"utm_campaign": "{title}"}, "utm_campaign: unknown placeholder"),
        ({"utm_source": "{feed"}, "utm_source: template syntax error"),
        ({"hashtag_map": {"News": "123"}}, "hashtag_map"),
        ({"cut_first": "hashtags"}, "cut_first"),
    ],
)
def test_render_options_are_checked_at_construction(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RenderOptions(**options)  # type: ignore[arg-type]


_CONFIG = """
[[feeds]]
name = "en"
url = "https://example.org/feed/"
targets = ["x_en"]

[targets.x_en]
platform = "twitter"
dry_run = true

[targets.x_en.render]
{line}
"""


def test_template_error_is_a_configuration_error_naming_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_CONFIG.format(line='template = "{title} {link}"'), source="test.toml")
    assert caught.value.key == "targets.x_en.render"
    assert "unknown placeholder {link}" in str(caught.value)


def test_a_good_render_table_loads() -> None:
    config = parse_config(
        _CONFIG.format(
            line='template = "{title:bold}\\n{url}"\nutm_source = "x"\nutm_campaign = "{feed}"\nmax_hashtags = 2\n'
            'hashtag_style = "camel"\nhashtag_map = { "The cult of Rajavi" = "MEK" }\nhashtag_stoplist = ["Albania"]'
        ),
        source="test.toml",
    )
    options = config.targets["x_en"].render
    assert options.template == "{title:bold}\n{url}"
    assert options.hashtag_map == {"The cult of Rajavi": "MEK"}
