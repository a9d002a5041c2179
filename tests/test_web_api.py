"""The HTTP JSON API and page shell, through FastAPI's test client over the real bundled index."""

from __future__ import annotations

import json
import os
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procsearch.corpus import corpus_dir
from procsearch.ingest.corpus import find_pages
from procsearch.search.cli import cli
from procsearch.search.web.app import CSP, MAX_QUERY_CHARS, create_app
from search_fixtures import bundled_index, searcher  # noqa: F401 - fixtures


@pytest.fixture(scope="module")
def client(bundled_index: str):
    with TestClient(create_app(bundled_index), raise_server_exceptions=False) as c:
        yield c


def one_line_error(response) -> str:
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    assert body["error"] and "\n" not in body["error"] and "Traceback" not in body["error"]
    return body["error"]


def test_search_answers_the_seed_query(client) -> None:
    r = client.get("/api/v1/search", params={"q": "spinal headache after epidural"})
    assert r.status_code == 200
    body = r.json()
    assert body["hits"][0]["code"] == "62273"
    hit = body["hits"][0]
    assert {"code", "code_system", "title", "name", "score", "matched_sections", "snippets"} <= set(hit)
    snippet = hit["snippets"][0]
    assert snippet["section"] and snippet["highlights"]
    for start, end in snippet["highlights"]:
        assert 0 <= start < end <= len(snippet["text"])


def test_search_is_the_cli_json_plus_facets(client, bundled_index: str) -> None:
    """One shape for every face: the API's object is `search --format json`'s with `facets` added."""
    query = "knee replacement"
    api = client.get("/api/search", params={"q": query, "limit": 5}).json()
    result = CliRunner().invoke(cli, ["search", query, "--limit", "5", "--format", "json", "--index", bundled_index])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    facets = api.pop("facets")
    for hit in printed["hits"]:  # the CLI prints where each page came from; HTTP clients are not told
        assert hit.pop("source").endswith(".html")
    assert api == printed
    assert sum(f["count"] for f in facets["code_system"]) == api["matched"] >= api["total"]
    assert all({"value", "label", "count"} == set(f) for f in facets["code_system"] + facets["section"])


def test_no_answer_names_a_local_path(client, bundled_index: str) -> None:
    """Where the pages and the index lie on the server's disk is not sent over HTTP."""
    local = [str(corpus_dir()), bundled_index, os.path.dirname(bundled_index)]
    paths = ["/api/v1/search?q=spinal%20headache%20after%20epidural&limit=100", "/api/v1/search?q=622*&limit=100",
             "/api/v1/codes/62273", "/api/v1/codes/62273/similar", "/api/v1/suggest?q=epid", "/healthz"]
    for path in paths:
        r = client.get(path)
        assert r.status_code == 200, path
        assert not [p for p in local if p in r.text or json.dumps(p)[1:-1] in r.text], path
        body = r.json()
        assert all("source" not in hit for hit in body.get("hits", ())), path
        assert "sections" not in body or "source" not in body, path


def test_versioned_and_current_paths_agree(client) -> None:
    a = client.get("/api/v1/search", params={"q": "EBP"}).json()
    b = client.get("/api/search", params={"q": "EBP"}).json()
    assert a == b and a["hits"][0]["code"] == "62273"


def test_filters_and_paging(client) -> None:
    everything = client.get("/api/search", params={"q": "biopsy", "limit": 100}).json()
    codes = [h["code"] for h in everything["hits"]]
    page2 = client.get("/api/search", params={"q": "biopsy", "limit": 3, "offset": 3}).json()
    assert [h["code"] for h in page2["hits"]] == codes[3:6] and page2["offset"] == 3
    cpt = client.get("/api/search", params={"q": "biopsy", "system": "cpt"}).json()
    assert cpt["hits"] and all(h["code_system"] == "CPT" for h in cpt["hits"])
    risks = client.get("/api/search", params={"q": "infection", "section": "Risks and Complications"}).json()
    assert risks["hits"] and all("Risks and Complications" in h["matched_sections"] for h in risks["hits"])
    assert [f["value"] for f in risks["facets"]["section"]] == ["risks"]
    plain = client.get("/api/search", params={"q": "cholecystecomy", "expand": "false"}).json()
    assert plain["expansions"] == []


@pytest.mark.parametrize("params, status, words", [
    ({"q": ""}, 400, "empty query"),
    ({"q": "   "}, 400, "empty query"),
    ({}, 400, "q: required"),
    ({"q": "x" * 2000}, 400, "2000 characters"),
    ({"q": "knee", "limit": 0}, 400, "limit"),
    ({"q": "knee", "limit": 101}, 400, "limit"),
    ({"q": "knee", "limit": "ten"}, 400, "limit"),
    ({"q": "knee", "offset": -1}, 400, "offset"),
    ({"q": "knee", "system": "ICD-11"}, 400, "unknown code system 'ICD-11'"),
    ({"q": "knee", "section": "kitchen"}, 400, "unknown section 'kitchen'"),
    ({"q": "knee", "expand": "maybe"}, 400, "expand"),
])
def test_bad_search_input_gets_a_one_line_4xx(client, params: dict, status: int, words: str) -> None:
    r = client.get("/api/search", params=params)
    assert r.status_code == status
    assert words in one_line_error(r)


def test_record_and_unknown_code(client, searcher) -> None:
    r = client.get("/api/codes/62273")
    assert r.status_code == 200
    body = r.json()
    whole = searcher.get("62273").to_dict()
    assert whole.pop("source").endswith("62273.html") and "source" not in body
    assert body == whole
    assert body["sections"] and body["similar_codes"]
    assert client.get("/api/codes/62273-50").json()["code"] == "62273"  # modifiers are normalised
    r = client.get("/api/codes/99999")
    assert r.status_code == 404 and "99999" in one_line_error(r)
    r = client.get("/api/codes/" + "9" * 300)
    assert r.status_code == 400
    one_line_error(r)


def test_similar_lists_the_pages_own_codes_first(client, searcher) -> None:
    body = client.get("/api/codes/62273/similar").json()
    listed = [c for c, _ in searcher.get("62273").similar_codes]
    rows = body["similar"]
    assert body["code"] == "62273"
    assert [r["code"] for r in rows[:len(listed)]] == listed
    assert all(r["why"] == "listed on the page" for r in rows[:len(listed)])
    assert any(r["why"] == "similar wording" for r in rows[len(listed):])
    for r in rows:  # a page may list codes the index has no page for
        assert r["indexed"] == (searcher.get(r["code"]) is not None)
    assert any(r["indexed"] for r in rows) and all(r["indexed"] for r in rows[len(listed):])
    r = client.get("/api/codes/00000/similar")
    assert r.status_code == 404
    one_line_error(r)


def test_suggest(client) -> None:
    body = client.get("/api/suggest", params={"q": "6227"}).json()
    assert body["completions"][0]["kind"] == "code" and body["completions"][0]["code"].startswith("6227")
    words = client.get("/api/suggest", params={"q": "lumbar punc"}).json()["completions"]
    assert "lumbar puncture" in [c["text"] for c in words]
    for params in ({"q": ""}, {"q": "a" * 2000}, {"q": "knee", "limit": 0}):
        r = client.get("/api/suggest", params=params)
        assert r.status_code == 400
        one_line_error(r)


def test_health_names_the_generation(client, bundled_index: str) -> None:
    body = client.get("/healthz").json()
    with open(f"{bundled_index}/CURRENT", encoding="utf-8") as fh:
        assert body["generation"] == fh.read().strip().rsplit("/", 1)[-1]
    assert body["status"] == "ok" and body["documents"] == len(find_pages([str(corpus_dir())])[0])
    assert body["built_at"].endswith("+00:00") and body["schema_version"] >= 1


def test_openapi_documents_the_versioned_api(client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/search", "/api/v1/codes/{code}", "/api/v1/codes/{code}/similar", "/api/v1/suggest",
            "/healthz"} <= set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {"q", "limit", "offset", "system", "section", "expand"} <= params


@pytest.mark.parametrize("path", ["/", "/?q=epidural", "/code/62273", "/static/app.js", "/static/app.css",
                                  "/api/search?q=knee", "/healthz", "/api/codes/nope", "/no/such/page"])
def test_every_response_carries_the_csp(client, path: str) -> None:
    r = client.get(path)
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "'unsafe-inline'" not in CSP and "http" not in CSP.replace("'self'", "")


def test_page_shell_loads_only_its_own_files(client) -> None:
    for path in ("/", "/code/62273"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        html = r.text
        assert 'src="/static/app.js"' in html and 'href="/static/app.css"' in html
        assert "http://" not in html and "https://" not in html and "<script>" not in html  # no inline script
    js = client.get("/static/app.js").text
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "document.write" not in js


def test_unknown_route_and_method(client) -> None:
    r = client.get("/api/v1/nothing")
    assert r.status_code == 404
    one_line_error(r)
    r = client.post("/api/v1/search", params={"q": "knee"})
    assert r.status_code == 405
    one_line_error(r)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=40), limit=st.one_of(st.integers(-5, 200), st.text(max_size=4)),
       system=st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["CPT", "pcs", "hcpcs"])),
       section=st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["risks", "recovery"])))
def test_no_input_gets_a_500(client, q: str, limit, system, section) -> None:
    params = {"q": q, "limit": limit}
    if system is not None:
        params["system"] = system
    if section is not None:
        params["section"] = section
    r = client.get("/api/search", params=params)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        one_line_error(r)
    r = client.get("/api/suggest", params={"q": q})
    assert r.status_code < 500, r.text
    r = client.get("/api/codes/" + (quote(q, safe="") or "x"))
    assert r.status_code in (200, 400, 404), r.text


def test_a_request_over_the_timeout_gets_a_503_and_its_worker_is_replaced(bundled_index: str) -> None:
    """A worker that has not answered in time is stopped: the client gets a one-line 503 at once,
    and the next request is answered by a new worker process."""
    app = create_app(bundled_index, workers=1, request_timeout=0.001)
    with TestClient(app, raise_server_exceptions=False) as c:
        pool = app.state.workers
        before = list(pool.pids)
        slow = c.get("/api/v1/search", params={"q": "spinal headache after epidural"})
        assert slow.status_code == 503
        assert "longer than 0.001 s" in slow.json()["error"] and "\n" not in slow.json()["error"]
        pool.timeout = 120.0
        again = c.get("/api/v1/search", params={"q": "epidural blood patch"})
        assert again.status_code == 200 and again.json()["hits"][0]["code"] == "62273"
        assert pool.pids and not set(pool.pids) & set(before)
