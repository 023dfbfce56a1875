"""getModels.sh as a newcomer meets it: it finds the project's Python or says in one line
how to set up; with no model named it fetches what the default run needs; failures are
one short block per model; a certificate error is one line with the fix, not retried.
The downloads go to real local HTTP(S) servers (tests/test_models.py's MirrorServer)."""
from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pose.download.cli import main
from pose.download.fetch import CERTIFICATE_ERROR
from pose.families.openpose.spec import Weights
from tests.test_models import NAME, PAYLOAD, SHA256, SIZE, MirrorServer, refused_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server():
    s = MirrorServer()
    yield s
    s.close()


def _weights(folder: Path, *urls: str) -> Weights:
    return Weights(folder / NAME, size=SIZE, sha256=SHA256, urls=tuple(urls))


def test_no_model_named_fetches_only_coco_and_names_the_others(server, tmp_path, capsys):
    coco = _weights(tmp_path / "coco", server.url("good"))
    mpi = _weights(tmp_path / "mpi", server.url("good"))
    assert main([], downloads={"COCO": coco, "MPI": mpi}) == 0
    assert coco.path.read_bytes() == PAYLOAD and not mpi.path.exists()
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "the other models, when you want them: ./getModels.sh MPI (or all)"
    assert main(["all", "--quiet"], downloads={"COCO": coco, "MPI": mpi}) == 0 and mpi.path.exists()


def test_failures_are_one_short_block_each_and_one_closing_line(tmp_path, capsys):
    downloads = {name: _weights(tmp_path / name, refused_url()) for name in ("COCO", "MPI", "BODY_25")}
    assert main(["all", "--quiet", "--retries", "1"], downloads=downloads) == 1
    err = capsys.readouterr().err
    assert err.count("Could not download") == 3 and err.count("Install by hand:") == 3
    assert err.count("--verify") == 1 and "To install it by hand" not in err
    assert len(err.splitlines()) <= 3 * 8 + 2
    assert err.splitlines()[-1] == "not installed: COCO, MPI, BODY_25"


class _Silent(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests += 1
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)

    def log_message(self, *args):
        pass


@pytest.fixture
def https_server(tmp_path):
    """An HTTPS mirror whose certificate no one trusts: what a TLS-intercepting proxy
    looks like to the downloader."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Silent)
    httpd.requests = 0
    httpd.handle_error = lambda request, address: None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_certificate_error_is_one_line_with_the_fix_and_not_retried(https_server, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    url = f"https://127.0.0.1:{https_server.server_address[1]}/{NAME}"
    weights = _weights(tmp_path, url)
    assert main(["--quiet", "--retries", "3", "--backoff", "0.01"], downloads={"COCO": weights}) == 1
    err = capsys.readouterr().err
    assert f"{url} -> {CERTIFICATE_ERROR}" in err and "REQUESTS_CA_BUNDLE" in CERTIFICATE_ERROR
    assert https_server.requests == 0  # the handshake failed once: no HTTP request, no retry
    assert err.count(url) == 1 and "Traceback" not in err


def _script_in(folder: Path) -> Path:
    """getModels.sh in a folder of its own (no .venv beside it), with this checkout's package."""
    folder.mkdir()
    shutil.copy(ROOT / "getModels.sh", folder / "getModels.sh")
    (folder / "pose").symlink_to(ROOT / "pose")
    return folder / "getModels.sh"


@pytest.mark.skipif(os.name != "posix" or not Path("/bin/bash").exists(), reason="a bash script")
def test_script_without_a_python_that_has_the_requirements_says_how_to_set_up(tmp_path):
    script = _script_in(tmp_path / "checkout")
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python3").write_text("#!/bin/sh\nexit 1\n")  # a Python without numpy, as far as the script can tell
    (bare / "python3").chmod(0o755)
    env = {"PATH": str(bare), "HOME": str(tmp_path)}
    r = subprocess.run(["/bin/bash", str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "python3 -m venv .venv" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(os.name != "posix" or not Path("/bin/bash").exists(), reason="a bash script")
def test_script_uses_the_active_virtual_environment(tmp_path):
    script = _script_in(tmp_path / "checkout")
    prefix = Path(sys.executable).parent.parent  # this test's environment, as if activated
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "VIRTUAL_ENV": str(prefix)}
    if not (prefix / "bin" / "python").exists():
        pytest.skip("this Python is not in a virtual environment")
    r = subprocess.run(["/bin/bash", str(script), "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("usage: getModels.sh"), r.stderr
