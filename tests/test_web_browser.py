"""The search page in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright
against a real `procsearch serve` process on a free loopback port.

Skipped with the reason when no Chromium is installed; under CI (CI set) a missing browser fails
instead, so the tests cannot silently stop running there (.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from procsearch.corpus import corpus_dir
from procsearch.index import build_index
from search_fixtures import write_page
from web_server import start_server

CHROMIUM = os.environ.get("PROCSEARCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 30_000  # generous: CI machines are shared
EVIL_CODE = "10120"
EVIL_TITLE = "Removal of <script>window.__pwned = 1</script> foreign body"
EVIL_SUMMARY = 'Incision and removal of a splinter <img src=x onerror="window.__pwned = 2"> from the skin.'


def _browser_or_skip():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM} under CI: .ci/run must install Debian's chromium")
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set PROCSEARCH_CHROMIUM)")
    return pytest.importorskip("playwright.sync_api", reason="playwright is a test dependency: pip install -e '.[test]'")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The bundled corpus plus pages whose text carries markup, indexed and served."""
    corpus = tmp_path_factory.mktemp("web-corpus")
    shutil.copytree(corpus_dir(), corpus / "bundled", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    write_page(corpus / "untrusted", EVIL_CODE, EVIL_TITLE, name="Splinter <b>removal</b>",
               sections={"Summary": EVIL_SUMMARY, "Risks and Complications": "Bleeding </p><script>alert(1)</script>"})
    index_dir = str(tmp_path_factory.mktemp("web-index") / "ix")
    build_index([str(corpus)], index_dir, workers=1)
    srv = start_server(index_dir, workers=1)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = _browser_or_skip()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # Errors, CSP refusals included; a 404 the page asked for on purpose (an unknown code) is not one.
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "status of 404" not in msg.text
          else None)
    requests: list[str] = []
    pg.on("request", lambda req: requests.append(req.url))
    yield pg
    context.close()
    assert not errors, errors  # no script errors, no CSP violations
    outside = [u for u in requests if not u.startswith(server.url) and not u.startswith("data:")]
    assert not outside, outside  # nothing loaded from anywhere else


def hit_codes(pg) -> list[str]:
    return pg.locator("#hits > li.hit").evaluate_all("els => els.map(e => e.dataset.code)")


def test_typing_a_query_shows_62273_first(page, server) -> None:
    page.goto(server.url + "/")
    page.locator("#q").press_sequentially("spinal headache after epidural", delay=20)
    page.wait_for_url(re.compile(r"q=spinal\+headache\+after\+epidural$"))  # the view is shareable
    page.wait_for_function("() => document.querySelector('#hits > li.hit')?.dataset.code === '62273' && "
                           "document.querySelector('#status').textContent.includes('match')")
    first = page.locator("#hits > li.hit").first
    assert first.locator(".badge").inner_text() == "CPT"
    assert first.locator(".snippet .section").first.inner_text().endswith(":")
    assert first.locator(".snippet mark").count() > 0


def test_a_shared_url_opens_the_same_results(page, server) -> None:
    page.goto(server.url + "/?q=EBP")
    page.wait_for_selector("#hits > li.hit")
    assert hit_codes(page)[0] == "62273"
    assert page.locator("#q").input_value() == "EBP"


def test_filter_by_a_facet(page, server) -> None:
    page.goto(server.url + "/?q=biopsy")
    page.wait_for_selector("#hits > li.hit")
    link = page.locator("#facet-systems a", has_text="ICD-10-PCS")
    count = int(link.locator(".count").inner_text().replace(",", ""))
    link.click()
    page.wait_for_url(re.compile(r"system=ICD-10-PCS"))
    page.wait_for_function("() => [...document.querySelectorAll('#hits .badge')].every(b => b.textContent === 'ICD-10-PCS')")
    assert page.locator("#hits .badge").count() == min(count, 10)
    assert page.locator("#facet-systems a[aria-current='true']").inner_text().startswith("ICD-10-PCS")
    assert re.search(rf"\b{count} pages? match", page.locator("#status").inner_text())
    # A section facet narrows further and keeps the system filter.
    page.locator("#facet-sections a").nth(1).click()
    page.wait_for_url(re.compile(r"section=.*&|section=[a-z]+$"))
    assert "system=ICD-10-PCS" in page.url


def test_open_a_record_and_follow_a_similar_code(page, server) -> None:
    page.goto(server.url + "/?q=epidural%20blood%20patch")
    page.wait_for_selector("#hits > li.hit")
    page.locator("#hits > li.hit").first.locator("a.title").click()
    page.wait_for_url(server.url + "/code/62273")
    page.wait_for_selector("#record-view h1")
    assert "blood" in page.locator("#record-view h1").inner_text().lower()
    headings = page.locator("#record-view section h2").all_inner_texts()
    assert "Summary" in headings and "Risks and Complications" in headings and "Similar codes" in headings
    similar = page.locator("#record-view .similar a").first
    target = similar.inner_text().split()[0]
    similar.click()
    page.wait_for_url(server.url + f"/code/{target}")
    page.wait_for_function(f"() => document.querySelector('#record-view .code')?.textContent === '{target}'")
    page.go_back()
    page.wait_for_url(server.url + "/code/62273")


def test_page_text_with_markup_is_shown_as_text(page, server) -> None:
    page.goto(server.url + f"/?q={EVIL_CODE}")
    page.wait_for_selector(f"#hits > li.hit[data-code='{EVIL_CODE}']")
    hit = page.locator(f"#hits > li.hit[data-code='{EVIL_CODE}']")
    assert hit.locator("a.title").inner_text() == EVIL_TITLE
    assert hit.locator(".name").inner_text() == "Splinter <b>removal</b>"
    assert hit.locator("script, img, b").count() == 0
    page.goto(server.url + f"/code/{EVIL_CODE}")
    page.wait_for_selector("#record-view h1")
    assert page.locator("#record-view h1").inner_text() == EVIL_TITLE
    body = page.locator("#record-view").inner_text()
    assert EVIL_SUMMARY in body and "<script>alert(1)</script>" in body
    assert page.locator("#record-view script, #record-view img").count() == 0
    assert page.evaluate("() => window.__pwned === undefined")


def test_keyboard_only(page, server) -> None:
    page.goto(server.url + "/")
    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.id") == "q"
    page.keyboard.type("lumbar punc", delay=20)
    page.wait_for_function("() => !document.querySelector('#suggestions').hidden && "
                           "document.querySelector('#sugg-0')?.textContent.includes('lumbar punc')")
    page.keyboard.press("ArrowDown")
    assert page.locator("#q").get_attribute("aria-activedescendant") == "sugg-0"
    chosen = page.locator("#sugg-0 span").nth(1).inner_text()
    page.keyboard.press("Enter")
    page.wait_for_function("t => new URLSearchParams(location.search).get('q') === t", arg=chosen)
    page.wait_for_selector("#hits > li.hit")
    assert page.locator("#q").input_value() == chosen
    # Tab reaches the results' links.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => !!document.activeElement.closest('#hits')"):
            break
    assert page.evaluate("() => !!document.activeElement.closest('#hits')")


def test_form_controls_are_labelled(page, server) -> None:
    page.goto(server.url + "/?q=knee")
    page.wait_for_selector("#hits > li.hit")
    assert page.get_by_label("Search procedures by words or code").count() == 1
    assert page.locator("nav#facets[aria-label]").count() == 1
    assert page.locator("[role=status][aria-live=polite]").count() == 1


def test_unknown_code_page_says_so(page, server) -> None:
    page.goto(server.url + "/code/99999")
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('99999')")
    assert "no page for code" in page.locator("#status").inner_text()
