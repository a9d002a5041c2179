"""A real `procsearch serve` process on a free loopback port, for the server and browser tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 10.0) -> tuple[int, dict]:
    """(status, body) of a GET on a fresh connection (so uvicorn's workers share the requests)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@dataclass
class Server:
    proc: subprocess.Popen
    url: str  # "http://127.0.0.1:PORT"

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        """Stop the server the way a user or a process manager does, and wait for it."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_server(index_dir: str, workers: int = 1) -> Server:
    """Start `procsearch serve` and wait until /healthz answers."""
    port = free_port()
    env = dict(os.environ)
    env.pop("PROCSEARCH_INDEX", None)
    proc = subprocess.Popen([sys.executable, "-m", "procsearch", "serve", "--index", index_dir, "--port", str(port),
                             "--workers", str(workers)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    server = Server(proc, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"procsearch serve exited {proc.returncode}: {proc.stdout.read()}")
        try:
            status, _ = get_json(server.url + "/healthz", timeout=2)
            if status == 200:
                return server
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"procsearch serve did not answer within {START_TIMEOUT:.0f} s")
