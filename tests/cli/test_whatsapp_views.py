"""WhatsApp as an editor sees it: a template target's preview shows the template and the parameters that are
sent; the dry-run log carries the wa.me draft link the README promises."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run

TEMPLATE = 'mode = "template"\ntemplate = "new_article"\ntemplate_language = "en"\n'


def test_a_template_targets_preview_shows_what_is_sent(cli: Run, cfg: Path) -> None:
    cfg.write_text(cfg.read_text().replace('mode = "text"\n', TEMPLATE))
    code, out, err = cli("preview", "--feed", "sample", "--target", "whatsapp")
    assert code == 0, err
    assert "sent as template 'new_article' (en), parameters:" in out
    lines = out.splitlines()
    first = lines.index("   sent as template 'new_article' (en), parameters:")
    title, link = lines[first + 1], lines[first + 2]
    assert title.startswith("     {{1}} = ") and link.startswith("     {{2}} = https://")
    assert "   text for a Channel, posted by hand:" in out
    doc = json.loads(cli("preview", "--feed", "sample", "--target", "whatsapp", "--json")[1])
    template = doc["articles"][0]["posts"][0]["extra"]["template"]
    assert template["name"] == "new_article" and len(template["parameters"]) == 2


def test_the_dry_run_log_has_the_wa_me_link(cli: Run) -> None:
    code, _, err = cli("poll", "--dry-run")
    assert code == 0
    previews = [e for e in map(json.loads, err.splitlines()) if e.get("event") == "delivery.preview"]
    whatsapp = [e for e in previews if e["target"] == "whatsapp"]
    assert len(whatsapp) == 3 and all(e["share_url"].startswith("https://wa.me/?text=") for e in whatsapp)
    code, _, err = cli("--log-level", "debug", "poll")  # dry-run targets: sent, and each logged at debug with the link
    sent = [e for e in map(json.loads, err.splitlines()) if e.get("event") == "delivery.sent"]
    whatsapp = [e for e in sent if e["target"] == "whatsapp"]
    assert len(whatsapp) == 3 and all(e["share_url"].startswith("https://wa.me/?text=") for e in whatsapp)
