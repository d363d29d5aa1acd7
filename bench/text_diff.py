"""Which bodies of the test corpora read differently after a change to the text pipeline (a review aid, not a test).

    python bench/text_diff.py [--base REV] [--quiet]

Parses every feed of tests/data/feedparser-corpus, tests/data/site and /work/shared/fixtures (when present) with
the working tree's parser, keeps every text field handed to the HTML → text steps (titles, summaries, contents,
the stored summaries), and runs each through the pipeline of revision REV (default HEAD: sources/parse/text.py and
render/text.py, with the modules they import, as of REV) and through the working tree's. Prints each body whose
stored text or post text differs, old and new, and the count. Read each difference before changing a golden file.
"""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout: python bench/text_diff.py

from syndicator.errors import FeedError  # noqa: E402
from syndicator.render import rich as rt  # noqa: E402
from syndicator.sources.feed import parse  # noqa: E402

DATA = ROOT / "tests" / "data"
CORPORA = [DATA / "feedparser-corpus", DATA / "site", Path("/work/shared/fixtures")]
HEADER = re.compile(rb"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.M)
BASE = "https://example.org/"


def old_modules(rev: str) -> tuple[ModuleType, ModuleType]:
    """sources.parse.text and render.text as of `rev`, imported from a private copy of that revision's package."""
    where = Path(tempfile.mkdtemp(prefix="text-diff-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "syndicator"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive.stdout, check=True)
    saved = {name: mod for name, mod in sys.modules.items() if name == "syndicator" or name.startswith("syndicator.")}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(where))
    try:
        ingest = importlib.import_module("syndicator.sources.parse.text")
        return ingest, importlib.import_module("syndicator.render.text")
    finally:
        sys.path.remove(str(where))
        for name in [n for n in sys.modules if n == "syndicator" or n.startswith("syndicator.")]:
            del sys.modules[name]
        sys.modules.update(saved)


def fields() -> Iterator[tuple[str, str, str]]:
    """(kind, text, file) for every text field the corpora give the text steps: "html" and "plain" as the feed
    readers hand them over, "content" (an entry's body), "stored" (the summary stored)."""
    from syndicator.sources.parse import jsonfeed, rss_atom

    seen: list[tuple[str, str]] = []
    readers = (rss_atom, jsonfeed)
    originals = [reader._plain_or_html for reader in readers]

    def recording(value: str, is_html: bool) -> str:
        seen.append(("html" if is_html else "plain", value))
        return originals[0](value, is_html)

    for reader in readers:
        reader._plain_or_html = recording
    try:
        for root in CORPORA:
            for path in sorted(root.rglob("*")):
                if not path.is_file() or path.suffix not in (".xml", ".json", ".rss"):
                    continue
                data = path.read_bytes()
                headers = {k.decode().lower(): v.decode("latin-1") for k, v in HEADER.findall(data[:2048])}
                seen.clear()
                try:
                    parsed = parse(
                        data,
                        feed="c",
                        base_url=headers.get("content-location", ""),
                        content_type=headers.get("content-type"),
                    )
                except FeedError:
                    continue
                name = str(path.relative_to(root))
                for kind, text in seen:
                    yield kind, text, name
                for article in parsed.articles:
                    yield "content", article.content_html, name
                    yield "stored", article.summary, name
    finally:
        for reader, original in zip(readers, originals, strict=True):
            reader._plain_or_html = original


def steps(ingest: ModuleType, render: ModuleType) -> dict[str, Callable[[str], str]]:
    return {
        "ingest html_to_text": ingest.html_to_text,
        "ingest field (html)": lambda v: ingest._plain_or_html(v, True),
        "ingest field (plain)": lambda v: ingest._plain_or_html(v, False),
        "ingest excerpt": ingest._excerpt,
        "post text of content": lambda v: rt.plain(render.html_to_rich(v, BASE)),
        "post summary of content": lambda v: rt.plain(render.summary_from("", v, BASE, 280)),
        "post summary of stored": lambda v: rt.plain(render.summary_from(v, "", BASE, 280)),
    }


APPLIES = {
    "ingest html_to_text": ("html", "content"),
    "ingest field (html)": ("html",),
    "ingest field (plain)": ("plain",),
    "ingest excerpt": ("content",),
    "post text of content": ("html", "content"),
    "post summary of content": ("content",),
    "post summary of stored": ("stored",),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="HEAD")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    import syndicator.render.text as new_render
    import syndicator.sources.parse.text as new_ingest

    old, new = steps(*old_modules(args.base)), steps(new_ingest, new_render)
    bodies: dict[tuple[str, str], str] = {}
    for kind, text, name in fields():
        if text:
            bodies.setdefault((kind, text), name)
    differ: set[str] = set()
    for (kind, text), name in bodies.items():
        for step, kinds in APPLIES.items():
            if kind not in kinds:
                continue
            before, after = old[step](text), new[step](text)
            if before != after:
                differ.add(text)
                if not args.quiet:
                    print(f"--- {name} · {step}\n  in : {text[:300]!r}")
                    print(f"  old: {before[:300]!r}\n  new: {after[:300]!r}")
    print(f"{len({t for _, t in bodies})} distinct bodies, {len(differ)} read differently (against {args.base})")


if __name__ == "__main__":
    main()
