"""`procsearch serve` as a real process: the bundled corpus by default, several workers on one
index picking up a published update without a restart, requests (not connections) shared between
workers, a killed worker replaced, and a stop in the middle of requests."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from procsearch.index import build_index, update_index
from search_fixtures import copy_pages, write_page
from web_server import get_json, start_server

MAX_TRIES = 300  # fresh connections tried before concluding a worker never answered


def test_serve_defaults_to_the_bundled_corpus_and_prints_its_url(tmp_home: Path) -> None:
    port = __import__("web_server").free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROCSEARCH_INDEX"}
    proc = subprocess.Popen([sys.executable, "-m", "procsearch", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, body = get_json(url + "/api/search?q=spinal%20headache%20after%20epidural")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200, proc.stderr.read() if proc.poll() is not None else "no answer"
        assert body["hits"][0]["code"] == "62273"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in out.splitlines()[0]


def test_serve_refuses_a_missing_index_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nothing"
    run = subprocess.run([sys.executable, "-m", "procsearch", "serve", "--index", str(missing), "--port", "9"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and "index build" in lines[0]


@pytest.fixture
def small_index(tmp_path: Path) -> tuple[Path, str]:
    corpus = copy_pages(["62273", "62270", "27447"], tmp_path / "corpus")
    index_dir = str(tmp_path / "ix")
    build_index([str(corpus)], index_dir, workers=1)
    return corpus, index_dir


def _answering_workers(url: str, want: int) -> dict[int, str]:
    """worker pid -> generation, from fresh connections until ``want`` workers have answered."""
    seen: dict[int, str] = {}
    for _ in range(MAX_TRIES):
        status, body = get_json(url + "/healthz")
        assert status == 200
        seen[body["worker"]] = body["generation"]
        if len(seen) >= want:
            break
    return seen


def test_every_worker_picks_up_a_published_update(small_index: tuple[Path, str]) -> None:
    corpus, index_dir = small_index
    server = start_server(index_dir, workers=2)
    try:
        before = _answering_workers(server.url, 2)
        assert len(before) == 2, "the second worker never answered"
        assert len(set(before.values())) == 1
        status, _ = get_json(server.url + "/api/codes/21356")
        assert status == 404
        for _ in range(4):  # answers each worker keeps must not outlive their generation
            status, body = get_json(server.url + "/api/search?q=zygomatic%20arch")
            assert status == 200 and "21356" not in [h["code"] for h in body["hits"]]
        write_page(corpus, "21356", "Zygomatic arch fracture repair",
                   sections={"Summary": "Open repair of a fractured zygomatic arch."})
        update_index([str(corpus)], index_dir)
        after = _answering_workers(server.url, 2)
        assert set(after) == set(before), "a worker was restarted"
        new = set(after.values())
        assert len(new) == 1 and new != set(before.values())
        for _ in range(20):  # whichever worker answers has the new page
            status, body = get_json(server.url + "/api/search?q=zygomatic%20arch")
            assert status == 200 and body["hits"][0]["code"] == "21356"
    finally:
        assert server.stop() == 0


def test_requests_on_one_connection_are_shared_between_workers(small_index: tuple[Path, str]) -> None:
    """A keep-alive connection is not tied to one worker: each request goes to the idle one."""
    _, index_dir = small_index
    server = start_server(index_dir, workers=2)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=30)
        answered = []
        for _ in range(6):
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            assert response.status == 200
            answered.append(json.loads(response.read())["worker"])
        conn.close()
        assert len(set(answered)) == 2, answered
    finally:
        assert server.stop() == 0


def test_a_killed_worker_is_replaced(small_index: tuple[Path, str]) -> None:
    _, index_dir = small_index
    server = start_server(index_dir, workers=1)
    try:
        status, body = get_json(server.url + "/healthz")
        first = body["worker"]
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, body = get_json(server.url + "/api/search?q=knee%20replacement")
            assert status in (200, 503), body  # at most the request on the dead worker fails, in one line
            if status == 503:
                assert list(body) == ["error"] and "worker" in body["error"]
            else:
                assert body["hits"][0]["code"] == "27447"
                break
            time.sleep(0.2)
        status, body = get_json(server.url + "/healthz")
        assert status == 200 and body["worker"] != first
    finally:
        assert server.stop() == 0


def test_no_worker_left_is_a_503_not_a_hang(small_index: tuple[Path, str], tmp_path: Path) -> None:
    """A worker that dies while its index has gone cannot be replaced: requests then get a one-line
    503 at once instead of waiting for a worker forever."""
    _, index_dir = small_index
    server = start_server(index_dir, workers=1)
    try:
        status, body = get_json(server.url + "/healthz")
        os.rename(index_dir, tmp_path / "moved")  # a new worker cannot open it
        os.kill(body["worker"], signal.SIGKILL)
        for _ in range(3):
            status, body = get_json(server.url + "/api/search?q=knee", timeout=60)
            assert status == 503 and list(body) == ["error"] and "worker" in body["error"], body
        status, _ = get_json(server.url + "/api/suggest?q=kne")
        assert status == 200  # completions are answered by the HTTP process from the index it opened
    finally:
        assert server.stop() == 0


def test_stopping_mid_request_answers_what_it_accepted(small_index: tuple[Path, str]) -> None:
    _, index_dir = small_index
    current = Path(index_dir, "CURRENT").read_text()
    server = start_server(index_dir, workers=1)
    outcomes: list[object] = []

    def client() -> None:
        try:
            outcomes.append(get_json(server.url + "/api/search?q=knee%20replacement&limit=50", timeout=30))
        except OSError as exc:  # refused: the server had stopped listening before this request
            outcomes.append(exc)

    threads = [threading.Thread(target=client) for _ in range(12)]
    for i, t in enumerate(threads):
        t.start()
        if i == 5:
            server.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(60)
    assert server.stop() in (0, -signal.SIGTERM)  # a graceful stop ends by the signal's own status
    answered = [o for o in outcomes if isinstance(o, tuple)]
    assert len(outcomes) == 12 and answered, outcomes
    for status, body in answered:  # every accepted request got its whole answer
        assert status == 200 and body["hits"][0]["code"] == "27447"
    assert Path(index_dir, "CURRENT").read_text() == current


def test_serve_refuses_a_port_in_use_in_one_line(small_index: tuple[Path, str]) -> None:
    _, index_dir = small_index
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "procsearch", "serve", "--index", index_dir, "--port", str(port)],
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {port}" in lines[0] and "--port" in lines[0]
