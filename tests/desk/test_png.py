"""`preview --png`: one PNG per post from the desk's templates, by the distribution's headless Chromium."""

from __future__ import annotations

import shutil
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from syndicator.desk import png
from syndicator.store import manage
from syndicator.store.articles import row_to_article
from tests.desk.support import ITEMS, make_desk

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def size_of(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_one_picture_per_post_at_the_height_of_the_post(tmp_path: Path) -> None:
    items = [replace(ITEMS[0], image="")]  # no image: Chromium must not fetch anything from the Internet
    desk = make_desk(tmp_path, items)
    row = manage.find_articles(desk.app.store, str(desk.article_id("تهران")), None)[-1]
    pictures = png.pictures(desk.app, [row_to_article(row)], ["x", "telegram"])
    assert [p.name for p in pictures] == ["01-x", "01-telegram"]
    written = png.write_pngs(pictures, tmp_path / "png", png.find_chromium())
    assert [p.name for p in written] == ["01-x.png", "01-telegram.png"]
    sizes = [size_of(p) for p in written]
    assert all(w == png.WIDTH and 150 < h < 1500 for w, h in sizes), sizes
    assert sizes[1][1] > sizes[0][1]  # the Telegram message (title, summary, button) is taller than the X post
    output = Path(__file__).resolve().parents[1] / "output" / "desk"
    output.mkdir(parents=True, exist_ok=True)
    for p in written:
        shutil.copy(p, output / f"png-{p.name}")


def test_without_chromium_one_line_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(png.NoChromium, match=r"apt-get install chromium") as caught:
        png.find_chromium()
    assert "\n" not in str(caught.value)
    with pytest.raises(png.NoChromium, match="not an executable"):
        png.find_chromium(str(tmp_path / "nothing-here"))
