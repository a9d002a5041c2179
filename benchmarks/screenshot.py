"""``python -m benchmarks.screenshot``: the README's picture of the search page.

Starts `procsearch serve` on a free loopback port (the bundled corpus unless --index is given),
types a query into the page in headless Chromium and saves a PNG (default docs/screenshot.png).
Needs the test extras (Playwright) and Debian's `chromium`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .load import HOST, start_server, stop_server

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.screenshot", description=__doc__.splitlines()[0])
    p.add_argument("--index", help="index to serve (default: the bundled corpus's, built on first use)")
    p.add_argument("--query", default="spinal headache after epidural")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    p.add_argument("--chromium", default=os.environ.get("PROCSEARCH_CHROMIUM", "/usr/bin/chromium"))
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    if args.index is None:
        from procsearch.search.searcher import ensure_bundled_index

        args.index = ensure_bundled_index()
    proc, port = start_server(args.index, 1)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 820}, device_scale_factor=1)
            page.goto(f"http://{HOST}:{port}/")
            page.locator("#q").press_sequentially(args.query, delay=15)
            page.wait_for_selector("#hits > li.hit")
            page.wait_for_timeout(400)
            page.locator("#q").blur()
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
    finally:
        stop_server(proc)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
