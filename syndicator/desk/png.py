"""`syndicator preview … --png DIR`: one PNG per post, drawn from the desk's own templates by headless Chromium (the
distribution's package, found on PATH or named by `[desk] chromium`), for pasting into a chat.

Two runs of Chromium: one lays every post out and reports their heights (`--dump-dom`), then one screenshot per
post at its own height. The pages are local files; Chromium fetches only the article images they show.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from syndicator.app import App
from syndicator.article import Article
from syndicator.desk import edits as desk_edits
from syndicator.desk.pages import page, stylesheet
from syndicator.desk.views import PostPreview
from syndicator.errors import SyndicatorError
from syndicator.platforms import registry
from syndicator.render import render
from syndicator.store import manage

WIDTH = 600  # px: about what a chat shows a picture at
TIMEOUT = 60.0  # seconds for one Chromium run
PARALLEL = 3  # Chromium runs at once
ARGS = ("--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-extensions", "--mute-audio")  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class NoChromium(SyndicatorError):
    """No Chromium to draw with: the message says how to get one, in one line."""


@dataclass(frozen=True)
class Picture:
    article: Article
    preview: PostPreview
    name: str  # the file name, without .png


def find_chromium(configured: str = "") -> str:
    if configured:
        found = shutil.which(configured) or (configured if os.access(configured, os.X_OK) else None)
        if not found:
            raise NoChromium(f"[desk] chromium = {configured!r} is not an executable; install chromium or fix the path")
        return found
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    raise NoChromium(
        "--png needs Chromium: install it (Debian/Ubuntu: apt-get install chromium), or set [desk] chromium"
    )


def pictures(app: App, articles: list[Article], target_names: list[str] | None) -> list[Picture]:
    """Each target's post for each article: the delivery's own post (an editor's text included) when the article is
    stored and queued, else the post `preview` renders."""
    out = []
    for n, article in enumerate(articles, start=1):
        feed = next((f for f in app.config.feeds if f.name == article.feed), None)
        names = target_names or (feed.targets if feed else list(app.config.targets))
        queued = {}
        rows = [r for r in manage.find_articles(app.store, article.id, None) if r["feed"] == article.feed]
        if rows:
            latest = manage.latest_deliveries(app.store, rows[-1]["id"])
            queued = {(d.target, d.recipient): d for d in desk_edits.applied(app.store, latest)}
        for name in names:
            target = app.config.target(name)
            spec = registry.find(target.platform)
            title = spec.title if spec else name
            found = [d for (t, _), d in sorted(queued.items()) if t == name]
            if not found:
                post = render(article, target)
                out.append(Picture(article, PostPreview(name, target.platform, title, post, None), f"{n:02d}-{name}"))
            for d in found:
                label = f"{n:02d}-{name}" + (f"-{d.recipient}" if d.recipient else "")
                out.append(Picture(article, PostPreview(name, target.platform, title, d.post, d), label))
    return out


def _html(items: list[Picture], css: str, measure: bool) -> str:
    return page("png.html", items=items, css=css, measure=measure, width=WIDTH)


def _run(chromium: str, *args: str) -> subprocess.CompletedProcess[str]:
    extra = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # root has no sandbox
    try:
        return subprocess.run(
            [chromium, *ARGS, *extra, *args], capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SyndicatorError(f"Chromium did not run: {exc}") from None


def write_pngs(items: list[Picture], out_dir: Path, chromium: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    css = stylesheet()
    with tempfile.TemporaryDirectory(prefix="syndicator-png-") as tmp:
        everything = Path(tmp) / "all.html"
        everything.write_text(_html(items, css, True), encoding="utf-8")
        dom = _run(chromium, "--dump-dom", "--window-size=800,600", everything.as_uri())
        heights = _heights(dom.stdout, len(items))

        def shoot(n: int, item: Picture, height: int) -> Path:
            one = Path(tmp) / f"{n}.html"
            one.write_text(_html([item], css, False), encoding="utf-8")
            target = out_dir / f"{_UNSAFE.sub('_', item.name)}.png"
            target.unlink(missing_ok=True)
            result = _run(chromium, f"--screenshot={target}", f"--window-size={WIDTH},{height}", one.as_uri())
            if not target.exists():
                raise SyndicatorError(f"Chromium drew no picture for {item.name}: {result.stderr.strip()[-300:]}")
            return target

        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:  # each Chromium start takes a second or more
            return list(pool.map(shoot, range(len(items)), items, heights))


def _heights(dom: str, count: int) -> list[int]:
    """The heights the layout run wrote into the page (a data attribute), else a generous default."""
    match = re.search(r'data-heights="([^"]*)"', dom)
    if match:
        try:
            values = json.loads(match.group(1).replace("&quot;", '"'))
            if isinstance(values, list) and len(values) == count:
                return [max(120, min(4000, int(v) + 24)) for v in values]
        except (ValueError, TypeError):
            pass
    return [900] * count


__all__ = ["NoChromium", "Picture", "find_chromium", "pictures", "write_pngs"]
