"""Footprint: idle `syndicator run` memory, `syndicator --help` start-up, `status` on a million deliveries.

    python bench/bench_footprint.py [--idle 5] [--runs 7] [--deliveries 1000000]

* idle run — `syndicator --config … run` on config/example.toml (four editions × four platforms, 16 real targets),
  copied to a temporary directory with its WhatsApp recipient files, with the feeds pointed at a local site
  (bench/_feedsite.py; the first poll records their items as seen, so nothing is sent), the store in the temporary
  directory, `[http] listen` on a free port, and fake secrets in the environment. Once the four feeds are polled
  and /healthz answers, it idles `--idle` seconds; then its RSS (and peak RSS) and the CPU it used while idle are
  read from /proc, and SIGTERM must stop it with exit code 0. Reference: a bare `python -c` sleeping.
* --help — `syndicator --help` (the installed console script), median wall time of `--runs` runs; baseline
  `python -c pass`.
* status — `syndicator --config … status` on a SQLite store holding `--deliveries` deliveries (a year of four
  editions' articles × four targets, mostly sent, some failed and waiting), median of `--runs` runs; baseline: a
  process that opens the same file and runs a plain `SELECT count(*) FROM deliveries`. Also in-process: the
  status queries (`collect_status`) against that count.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout: python bench/bench_footprint.py

from bench._support import ROOT, machine, rss_mb, table

HERE = Path(__file__).resolve()
EXAMPLE = ROOT / "config" / "example.toml"
BIN = Path(sys.executable).parent
SYNDICATOR = str(BIN / "syndicator") if (BIN / "syndicator").exists() else None


def fake_secrets(config_text: str) -> dict[str, str]:
    """A made-up value for every environment variable the configuration names (`*_env` keys)."""
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("_env") and isinstance(value, str) and value:
                    names.add(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tomllib.loads(config_text))
    return {n: ("123456:TEST-token-not-real-000000000" if "TELEGRAM" in n else f"{n}-not-real") for n in names}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def example_config(tmp: Path, feed_base: str, db: Path, port: int) -> Path:
    """config/example.toml with local feeds, a temporary store and the HTTP server on `port`."""
    text = EXAMPLE.read_text(encoding="utf-8")
    urls = iter(range(100))
    text = re.sub(r'(?m)^url = "https?://[^"]*/feed/"', lambda _m: f'url = "{feed_base}/feeds/{next(urls)}.rss"', text)
    text = re.sub(r'(?m)^url = "sqlite:///[^"]*"', f'url = "sqlite:///{db}"', text)
    text = re.sub(r'(?m)^listen = "[^"]*"', f'listen = "127.0.0.1:{port}"', text)
    for extra in EXAMPLE.parent.glob("whatsapp-*.txt"):
        shutil.copy(extra, tmp / extra.name)
    path = tmp / "syndicator.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- idle run ---------------------------------------------------------------------------------------------------


def idle_run(idle: float) -> dict[str, float]:
    site = subprocess.Popen([sys.executable, str(HERE.parent / "_feedsite.py")], stdout=subprocess.PIPE, text=True)
    try:
        assert site.stdout is not None
        base = "http://127.0.0.1:" + site.stdout.readline().split()[1]
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            port = free_port()
            cfg = example_config(tmp, base, tmp / "syndicator.db", port)
            env = {**os.environ, **fake_secrets(cfg.read_text(encoding="utf-8"))}
            env.pop("SYNDICATOR_DB_URL", None)
            log = (tmp / "run.log").open("w+")
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [*command(), "--config", str(cfg), "--log-format", "json", "run"], env=env, stderr=log, cwd=tmp
            )
            try:
                feeds = len(tomllib.loads(cfg.read_text(encoding="utf-8"))["feeds"])
                ready = wait_until(lambda: polled(tmp / "run.log") >= feeds and healthy(port), timeout=60)
                if not ready:
                    raise SystemExit(f"`syndicator run` did not get ready:\n{(tmp / 'run.log').read_text()[-3000:]}")
                started = time.perf_counter() - t0
                cpu0 = cpu_seconds(proc.pid)
                time.sleep(idle)
                rss, peak, cpu = rss_mb(proc.pid), peak_mb(proc.pid), cpu_seconds(proc.pid) - cpu0
                t1 = time.perf_counter()
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=30)
                stop = time.perf_counter() - t1
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if code != 0:
                raise SystemExit(f"`syndicator run` exited {code} on SIGTERM:\n{(tmp / 'run.log').read_text()[-3000:]}")
    finally:
        site.terminate()
        site.wait()
    bare = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    time.sleep(0.5)
    bare_rss = rss_mb(bare.pid)
    bare.kill()
    bare.wait()
    return {"rss": rss, "peak": peak, "idle_cpu": cpu / idle, "ready": started, "stop": stop, "bare": bare_rss}


def command() -> list[str]:
    return [SYNDICATOR] if SYNDICATOR else [sys.executable, "-m", "syndicator"]


def polled(log: Path) -> int:
    events = 0
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"event": "feed.' in line:
            event = json.loads(line).get("event")
            events += event in ("feed.polled", "feed.failed")
    return events


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def wait_until(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


# -- start-up ---------------------------------------------------------------------------------------------------


def median_wall(argv: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs + 1):  # the first run warms the page cache and .pyc files, and is dropped
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


# -- status on a million deliveries -----------------------------------------------------------------------------

POST = json.dumps(
    {
        "platform": "telegram",
        "text": "<b>Families of members ask for a visit</b>\n\nFormer members of the group said the camp in Albania "
        "families visited their children after years of separation.\n\nhttps://www.example.org/en/story/",
        "length": 180,
        "limit": 4096,
        "link": "https://www.example.org/en/story/?utm_source=telegram",
        "image_url": None,
        "parse_mode": "HTML",
        "buttons": [],
        "recipient": "",
        "extra": {},
    }
)


def fill_store(db: Path, deliveries: int) -> float:
    """A store at the current schema holding `deliveries` deliveries; returns the seconds it took."""
    from syndicator.store import Store

    t0 = time.perf_counter()
    Store(f"sqlite:///{db}").close()  # the schema, by the migrations
    editions = ("en", "ar", "fa", "sq")
    platforms = ("x", "telegram", "facebook", "whatsapp")
    articles = deliveries // len(platforms)
    step = max(1, 365 * 86400 // articles)  # a year of articles, the newest a minute ago
    con = sqlite3.connect(db)
    con.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;")
    ts = "strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || ({age}) || ' seconds') || '.000000'"
    created = ts.format(age=f"60 + (:n - x) * {step}")
    with con:
        con.executemany(
            "INSERT INTO feeds (name, url, initialized, last_items, last_status, last_poll_at, last_ok_at) "
            "VALUES (?, ?, 1, 10, 'not_modified', strftime('%Y-%m-%d %H:%M:%S', 'now') || '.000000', "
            "strftime('%Y-%m-%d %H:%M:%S', 'now') || '.000000')",
            [(e, f"https://www.example.org/{e}/feed/") for e in editions],
        )
        con.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :n) "
            "INSERT INTO articles (id, feed, key, url_key, guid, url, title, summary, content_html, categories, "
            "language, author, fingerprint, first_seen_at, last_seen_at, published_at, state) "
            f"SELECT x, {_pick('x', editions)}, '?p=' || x, 'example.org/story-' || x, "
            "'https://www.example.org/?p=' || x, 'https://www.example.org/story-' || x || '/', "
            "'Families of members ask for a visit, part ' || x, 'Former members of the group said the camp…', '', "
            f"'[\"Families\"]', 'en', 'Example Society', hex(randomblob(16)), {created}, {created}, {created}, "
            "'queued' FROM c",
            {"n": articles},
        )
        con.execute(
            "INSERT INTO deliveries (article_id, feed, target, recipient, generation, kind, state, priority, post, "
            "published_at, not_before, attempts, created_at, updated_at, sending_at, sent_at, remote_id, error_class) "
            "SELECT a.id, a.feed, p.platform || '_' || a.feed, '', 0, 'post', "
            "CASE WHEN a.id > :n - 10 THEN 'pending' WHEN (a.id + p.k) % 101 = 0 THEN 'failed' ELSE 'sent' END, "
            "0, :post, a.published_at, a.first_seen_at, 1, a.first_seen_at, a.first_seen_at, "
            "CASE WHEN a.id > :n - 10 THEN NULL ELSE a.first_seen_at END, "
            "CASE WHEN a.id > :n - 10 OR (a.id + p.k) % 101 = 0 THEN NULL ELSE a.first_seen_at END, "
            "CASE WHEN a.id > :n - 10 OR (a.id + p.k) % 101 = 0 THEN NULL ELSE '18' || a.id || p.k END, "
            "CASE WHEN (a.id + p.k) % 101 = 0 THEN 'permanent' END "
            f"FROM articles a CROSS JOIN ({_values(platforms)}) p",
            {"n": articles, "post": POST},
        )
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no ANALYZE: Syndicator never runs it on its store
    con.close()
    return time.perf_counter() - t0


def _pick(column: str, values: tuple[str, ...]) -> str:
    cases = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {column} % {len(values)} {cases} END"


def _values(platforms: tuple[str, ...]) -> str:
    return " UNION ALL ".join(f"SELECT '{p}' AS platform, {k} AS k" for k, p in enumerate(platforms))


def status_run(deliveries: int, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        db = tmp / "syndicator.db"
        filled = fill_store(db, deliveries)
        cfg = example_config(tmp, "http://127.0.0.1:9", db, free_port())
        env = {**os.environ, **fake_secrets(cfg.read_text(encoding="utf-8"))}
        env.pop("SYNDICATOR_DB_URL", None)
        count = sqlite3.connect(db).execute("SELECT count(*) FROM deliveries").fetchone()[0]
        assert count == deliveries // 4 * 4, count
        status = median_wall([*command(), "--config", str(cfg), "status"], runs, env)
        status_json = median_wall([*command(), "--config", str(cfg), "status", "--json"], runs, env)
        plain = median_wall(
            [
                sys.executable,
                "-c",
                f"import sqlite3; sqlite3.connect({str(db)!r}).execute('SELECT count(*) FROM deliveries').fetchone()",
            ],
            runs,
        )
        inner, inner_count = in_process(cfg, db, env, runs)
        size = db.stat().st_size / 1024 / 1024
    return {
        "rows": count,
        "fill": filled,
        "size": size,
        "status": status,
        "status_json": status_json,
        "plain": plain,
        "inner": inner,
        "inner_count": inner_count,
    }


def in_process(cfg: Path, db: Path, env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median seconds of collect_status and of a plain count(*), in this process, after one warm-up each."""
    from syndicator import config
    from syndicator.app import App
    from syndicator.status import collect_status

    app = App.open(config.load(str(cfg), environ=env))
    con = sqlite3.connect(db)
    ours, theirs = [], []
    for _ in range(runs + 1):
        t0 = time.perf_counter()
        collect_status(app)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        con.execute("SELECT count(*) FROM deliveries").fetchone()
        theirs.append(time.perf_counter() - t0)
    app.store.close()
    con.close()
    return statistics.median(ours[1:]), statistics.median(theirs[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--idle", type=float, default=5.0, help="seconds of idling before RSS is read (default 5)")
    ap.add_argument("--runs", type=int, default=7, help="runs per start-up timing, median kept (default 7)")
    ap.add_argument("--deliveries", type=int, default=1_000_000, help="deliveries in the status store")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(
        f"command: python bench/bench_footprint.py --idle {args.idle:g} --runs {args.runs} "
        f"--deliveries {args.deliveries}\n"
    )
    run = idle_run(args.idle)
    help_ = median_wall([*command(), "--help"], args.runs)
    bare = median_wall([sys.executable, "-c", "pass"], args.runs)
    st = status_run(args.deliveries, args.runs)
    rows = [
        ["idle `run` RSS (MB)", f"{run['rss']:.0f}", f"{run['bare']:.0f}", "bare python", "≤ 100"],
        ["idle `run` peak RSS (MB)", f"{run['peak']:.0f}", "", "", ""],
        ["idle `run` CPU while idle (%)", f"{100 * run['idle_cpu']:.1f}", "", "", ""],
        ["`run` start → 4 feeds polled (s)", f"{run['ready']:.2f}", "", "", ""],
        ["`run` SIGTERM → exit 0 (s)", f"{run['stop']:.2f}", "", "", ""],
        ["`syndicator --help` (s)", f"{help_:.3f}", f"{bare:.3f}", f"python -c pass, {help_ / bare:.1f}x", "≤ 0.3"],
        [
            f"`status` on {st['rows']:,} deliveries (s)",
            f"{st['status']:.3f}",
            f"{st['plain']:.3f}",
            f"count(*) process, {st['status'] / st['plain']:.1f}x",
            "≤ 0.5",
        ],
        ["`status --json`, same store (s)", f"{st['status_json']:.3f}", "", "", ""],
        [
            "  in-process: collect_status (s)",
            f"{st['inner']:.3f}",
            f"{st['inner_count']:.3f}",
            f"count(*), {st['inner'] / st['inner_count']:.1f}x",
            "",
        ],
    ]
    print(table(rows, ["measure", "syndicator", "baseline", "baseline is", "target"], left=1))
    print(f"\nstore: {st['rows']:,} deliveries, {st['size']:.0f} MB, generated in {st['fill']:.1f} s")


if __name__ == "__main__":
    main()
