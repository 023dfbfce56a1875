"""pose.models against real HTTP servers on 127.0.0.1 that the tests start and control.

Each server serves a generated 2 MiB "weights" file with a known SHA-256 and misbehaves
on purpose depending on the first path segment (see MirrorServer). Nothing here touches
the internet: every URL is 127.0.0.1 or file://.
"""
from __future__ import annotations

import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from pose.download import cli as download_cli
from pose.download import fetch as models
from pose.download.cli import main
from pose.download.fetch import Policy, download, mirror_url, part_path, urls_for, verify_file
from pose.families.openpose.spec import Weights
from tests.support.loopback import QuietHandler, serve, stop

ROOT = Path(__file__).resolve().parent.parent
SIZE = 2 * 1024 * 1024
# Protobuf's first tag byte, as in a real .caffemodel, then noise that never repeats.
PAYLOAD = b"\x0a" + random.Random(20240521).randbytes(SIZE - 1)
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
NAME = "pose_iter_test.caffemodel"
SERVE_CHUNK = 32 * 1024
GATE_AT = 320 * 1024  # where a gated answer pauses (MirrorServer.gate)
FAST = Policy(connect_timeout=2, read_timeout=2, retries=2, backoff=0.01, progress=False)
HTML = b"<!DOCTYPE html>\n<html><head><title>Dropbox - Error</title></head><body>gone</body></html>\n"


class MirrorServer:
    """A local HTTP mirror. The first path segment picks the behaviour:

    good      Range honoured (206)            norange   Range ignored, always 200
    cut       first answer stops half-way     missing   404
    html      200 text/html error page        htmlbin   HTML body, octet-stream, no length
    wrongsize Content-Length != file size     corrupt   right size, one byte flipped
    flaky     503 twice, then good            stall     headers, then silence
    endless   no length, never ends           huge      claims 10^12 bytes
    """

    def __init__(self) -> None:
        self.log: List[Tuple[str, Optional[str]]] = []  # (behaviour, Range header)
        self.delay = 0.0  # seconds between chunks: a slow link
        self.cuts_left = 1
        self.failures_left = 2
        self.gate: Optional[threading.Event] = None  # set: answers pause after GATE_AT bytes until it opens
        corrupt = bytearray(PAYLOAD)
        corrupt[SIZE // 3] ^= 0xFF
        self.corrupt = bytes(corrupt)
        self.httpd = serve(self._handler())

    def url(self, behaviour: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{behaviour}/{NAME}"

    def ranges(self) -> List[Optional[str]]:
        return [r for _, r in self.log]

    def close(self) -> None:
        stop(self.httpd)

    def _handler(self):
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                behaviour = self.path.strip("/").split("/")[0]
                server.log.append((behaviour, self.headers.get("Range")))
                try:
                    getattr(server, "serve_" + behaviour)(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler

    # --- behaviours -------------------------------------------------------------------

    def send(self, h, data: bytes, honour_range: bool = True, stop: Optional[int] = None,
             content_type: str = "application/octet-stream", length: Optional[int] = None) -> None:
        start = 0
        range_header = h.headers.get("Range")
        if range_header and honour_range:
            start = int(range_header.split("=")[1].split("-")[0])
            if start >= len(data):
                h.send_response(416)
                h.send_header("Content-Range", f"bytes */{len(data)}")
                h.end_headers()
                return
            h.send_response(206)
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data) - start if length is None else length))
        h.end_headers()
        body = data[start:stop]
        for i in range(0, len(body), SERVE_CHUNK):
            h.wfile.write(body[i:i + SERVE_CHUNK])
            if self.delay:
                time.sleep(self.delay)
            if self.gate is not None and start + i + SERVE_CHUNK >= GATE_AT:
                h.wfile.flush()
                self.gate.wait(timeout=60)

    def serve_good(self, h) -> None:
        self.send(h, PAYLOAD)

    def serve_norange(self, h) -> None:
        self.send(h, PAYLOAD, honour_range=False)

    def serve_cut(self, h) -> None:
        stop = SIZE // 2 if self.cuts_left else None
        self.cuts_left = max(self.cuts_left - 1, 0)
        self.send(h, PAYLOAD, stop=stop)

    def serve_missing(self, h) -> None:
        h.send_error(404)

    def serve_html(self, h) -> None:
        self.send(h, HTML, honour_range=False, content_type="text/html; charset=utf-8")

    def serve_htmlbin(self, h) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.end_headers()
        h.wfile.write(HTML)

    def serve_wrongsize(self, h) -> None:
        self.send(h, PAYLOAD, honour_range=False, length=SIZE + 1000)

    def serve_corrupt(self, h) -> None:
        self.send(h, self.corrupt)

    def serve_flaky(self, h) -> None:
        if self.failures_left:
            self.failures_left -= 1
            h.send_error(503)
            return
        self.send(h, PAYLOAD)

    def serve_endless(self, h) -> None:
        """A weights-looking stream with no length that never ends (until the client leaves)."""
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.end_headers()
        while True:
            h.wfile.write(PAYLOAD[:SERVE_CHUNK])

    def serve_huge(self, h) -> None:
        self.send(h, PAYLOAD, honour_range=False, length=10 ** 12)

    def serve_stall(self, h) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(SIZE))
        h.end_headers()
        time.sleep(1.0)


@pytest.fixture
def server():
    s = MirrorServer()
    yield s
    s.close()


@pytest.fixture
def weights(tmp_path) -> Weights:
    return Weights(tmp_path / "models" / NAME, size=SIZE, sha256=SHA256, urls=())


def refused_url() -> str:
    """A 127.0.0.1 URL where nothing listens: the connection is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{NAME}"


def installed(weights: Weights) -> bool:
    return weights.path.read_bytes() == PAYLOAD and not part_path(weights).exists()


def test_normal_download(server, weights):
    outcome = download(weights, [server.url("good")], policy=FAST)
    assert outcome.ok and outcome.status == "downloaded"
    assert installed(weights)
    assert server.ranges() == [None]
    assert verify_file(weights)[0]


def test_resume_after_cut_off(server, weights):
    outcome = download(weights, [server.url("cut")], policy=FAST)
    assert outcome.ok
    assert installed(weights)
    # The second request asks for exactly what the first one failed to deliver.
    assert server.ranges() == [None, f"bytes={SIZE // 2}-"]


def test_resume_of_part_left_by_an_earlier_run(server, weights):
    weights.path.parent.mkdir(parents=True)
    part_path(weights).write_bytes(PAYLOAD[:700_000])
    assert download(weights, [server.url("good")], policy=FAST).ok
    assert installed(weights)
    assert server.ranges() == ["bytes=700000-"]


def test_server_without_range_support_restarts_cleanly(server, weights):
    weights.path.parent.mkdir(parents=True)
    part_path(weights).write_bytes(PAYLOAD[:700_000])
    assert download(weights, [server.url("norange")], policy=FAST).ok
    assert installed(weights)
    assert server.ranges() == ["bytes=700000-"]  # asked, got 200 with the whole file


def test_bad_part_is_discarded_after_mismatch_and_mirror_retried_from_zero(server, weights):
    weights.path.parent.mkdir(parents=True)
    part_path(weights).write_bytes(b"\x00" * 700_000)  # e.g. garbage after a power cut
    assert download(weights, [server.url("good")], policy=FAST).ok
    assert installed(weights)
    assert server.ranges() == ["bytes=700000-", None]


def test_first_mirror_404_second_good(server, weights):
    outcome = download(weights, [server.url("missing"), server.url("good")], policy=FAST)
    assert outcome.ok and installed(weights)
    assert outcome.tried == [(server.url("missing"), "HTTP 404 Not Found")]
    assert [b for b, _ in server.log] == ["missing", "good"]  # a 404 is not retried


def test_html_page_with_200_is_rejected(server, weights):
    outcome = download(weights, [server.url("html"), server.url("good")], policy=FAST)
    assert outcome.ok and installed(weights)
    assert "HTML page (text/html)" in outcome.tried[0][1]


def test_html_body_without_content_type_is_sniffed_and_the_part_kept(server, weights):
    weights.path.parent.mkdir(parents=True)
    part_path(weights).write_bytes(PAYLOAD[:700_000])
    outcome = download(weights, [server.url("htmlbin"), server.url("good")], policy=FAST)
    assert outcome.ok and installed(weights)
    assert "HTML page" in outcome.tried[0][1]
    # The error page did not truncate the .part: the good mirror resumed it.
    assert server.ranges() == ["bytes=700000-", "bytes=700000-"]


def test_wrong_size_is_rejected_from_the_headers(server, weights):
    outcome = download(weights, [server.url("wrongsize")], policy=FAST)
    assert not outcome.ok
    assert outcome.tried == [(server.url("wrongsize"),
                              f"wrong size: server announces {SIZE + 1000} bytes, expected {SIZE}")]
    assert not weights.path.exists() and not part_path(weights).exists()


def test_checksum_mismatch_deletes_file_and_moves_on(server, weights):
    outcome = download(weights, [server.url("corrupt"), server.url("good")], policy=FAST)
    assert outcome.ok and installed(weights)
    bad = hashlib.sha256(server.corrupt).hexdigest()
    assert outcome.tried == [(server.url("corrupt"), f"checksum mismatch: got SHA-256 {bad}")]


def test_checksum_mismatch_everywhere_leaves_nothing(server, weights):
    outcome = download(weights, [server.url("corrupt")], policy=FAST)
    assert not outcome.ok
    assert not weights.path.exists() and not part_path(weights).exists()


def test_transient_errors_are_retried_with_backoff(server, weights):
    policy = Policy(connect_timeout=2, read_timeout=2, retries=3, backoff=0.01, progress=False)
    assert download(weights, [server.url("flaky")], policy=policy).ok
    assert [b for b, _ in server.log] == ["flaky"] * 3  # 503, 503, then the file


def test_read_timeout_gives_up_after_the_retries(server, weights):
    policy = Policy(connect_timeout=2, read_timeout=0.2, retries=2, backoff=0.01, progress=False)
    started = time.monotonic()
    outcome = download(weights, [server.url("stall")], policy=policy)
    assert not outcome.ok
    assert "(2 requests)" in outcome.tried[0][1]
    assert time.monotonic() - started < 3


def test_all_mirrors_failing_explains_how_to_place_the_file(server, weights, capsys):
    refused = refused_url()
    broken = Weights(weights.path, SIZE, SHA256,
                     (server.url("missing"), server.url("html"), refused))
    status = main(["--quiet", "--retries", "2", "--backoff", "0.01"], downloads={"TEST": broken})
    err = capsys.readouterr().err
    assert status == 1
    for expected in (str(weights.path), str(SIZE), SHA256, "by hand", "--verify",
                     server.url("missing"), "HTTP 404 Not Found",
                     server.url("html"), "HTML page",
                     refused, "cannot connect"):
        assert expected in err
    assert "Traceback" not in err
    assert not weights.path.exists()


def test_unreachable_host_is_skipped_for_later_models(server, tmp_path):
    refused = refused_url()
    unreachable: set = set()
    first = Weights(tmp_path / "a" / NAME, SIZE, SHA256, (refused, server.url("good")))
    second = Weights(tmp_path / "b" / NAME, SIZE, SHA256, (refused, server.url("good")))
    assert download(first, policy=FAST, unreachable=unreachable).ok
    outcome = download(second, policy=FAST, unreachable=unreachable)
    assert outcome.ok
    assert outcome.tried == [(refused, "skipped: host unreachable earlier in this run")]


def test_already_present_and_verified_is_not_downloaded(server, weights, capsys):
    weights.path.parent.mkdir(parents=True)
    weights.path.write_bytes(PAYLOAD)
    good = Weights(weights.path, SIZE, SHA256, (server.url("good"),))
    assert main(["--quiet"], downloads={"TEST": good}) == 0
    assert "TEST: already present, verified" in capsys.readouterr().out
    assert server.log == []
    assert main(["--quiet", "--force"], downloads={"TEST": good}) == 0
    assert server.ranges() == [None]
    assert installed(weights)


def test_a_wrong_file_in_place_is_replaced(server, weights):
    weights.path.parent.mkdir(parents=True)
    weights.path.write_bytes(HTML)
    assert download(weights, [server.url("good")], policy=FAST).ok
    assert installed(weights)


def test_verify_only_checks_the_disk(server, weights, capsys):
    good = Weights(weights.path, SIZE, SHA256, (server.url("good"),))
    assert main(["--verify"], downloads={"TEST": good}) == 1
    assert f"TEST: missing: {weights.path}" in capsys.readouterr().err
    weights.path.parent.mkdir(parents=True)
    weights.path.write_bytes(PAYLOAD[:-1] + b"\x00")
    assert main(["--verify"], downloads={"TEST": good}) == 1
    assert "checksum mismatch" in capsys.readouterr().err
    weights.path.write_bytes(PAYLOAD)
    assert main(["--verify"], downloads={"TEST": good}) == 0
    assert server.log == []


def test_verify_file_reasons(weights):
    assert verify_file(weights) == (False, f"missing: {weights.path}")
    weights.path.parent.mkdir(parents=True)
    weights.path.write_bytes(PAYLOAD[:1000])
    ok, reason = verify_file(weights)
    assert not ok and reason.startswith(f"wrong size: {weights.path} has 1000 bytes, expected {SIZE}")
    weights.path.write_bytes(PAYLOAD)
    ok, reason = verify_file(weights)
    assert ok and SHA256[:16] in reason


def test_file_mirror_for_offline_installs(tmp_path, weights):
    local = tmp_path / "usb"
    local.mkdir()
    (local / NAME).write_bytes(PAYLOAD)
    for mirror in (str(local), local.as_uri() + "/"):
        url = mirror_url(mirror, weights)
        assert url == (local / NAME).as_uri()
        assert download(weights, [url], force=True, policy=FAST).ok
        assert installed(weights)


def test_cli_mirror_and_env_mirrors_come_first(server, weights, monkeypatch, capsys):
    monkeypatch.setenv(models.MIRRORS_ENV, f"{server.url('missing').rsplit('/', 1)[0]}/ ,")
    offline = Weights(weights.path, SIZE, SHA256, (refused_url(),))
    base = server.url("good").rsplit("/", 1)[0]
    status = main(["--quiet", "--only-mirrors", "--mirror", base], downloads={"TEST": offline})
    assert status == 0 and installed(weights)
    assert [b for b, _ in server.log] == ["good"]  # the --mirror came first; nothing else tried


def test_mirror_forms():
    w = Weights(Path("/x") / NAME, SIZE, SHA256, ("http://builtin/" + NAME,))
    assert mirror_url("http://h/models", w) == f"http://h/models/{NAME}"
    assert mirror_url("http://h/models/", w) == f"http://h/models/{NAME}"
    assert mirror_url("https://h/dl/other.caffemodel?dl=1", w) == "https://h/dl/other.caffemodel?dl=1"
    assert mirror_url("file:///srv/w", w) == f"file:///srv/w/{NAME}"
    assert urls_for(w, ["http://a/"]) == [f"http://a/{NAME}", f"http://builtin/{NAME}"]
    # A file URL of another name applies only when one model is requested.
    assert urls_for(w, ["http://a/other.caffemodel"], requested=2) == [f"http://builtin/{NAME}"]
    with pytest.raises(ValueError, match="unsupported mirror"):
        mirror_url("ftp://h/", w)


def test_a_file_mirror_for_several_models_is_a_usage_error(capsys):
    status = main(["all", "--mirror", "http://h/some.caffemodel", "--verify"])
    assert status == 2
    assert "names one file" in capsys.readouterr().err


def test_disk_error_is_one_line_and_stops(server, tmp_path):
    (tmp_path / "models").write_text("a file where the directory should be")
    w = Weights(tmp_path / "models" / NAME, SIZE, SHA256, (server.url("good"), server.url("good")))
    outcome = download(w, policy=FAST)
    assert not outcome.ok
    assert outcome.detail.startswith("cannot create the directory") and "\n" not in outcome.detail
    assert server.log == []  # found out before asking any mirror


DRIVER = """
import sys
from pathlib import Path
from pose.download import cli as download_cli
from pose.download.cli import main
from pose.families.openpose.spec import Weights
path, size, sha256, url, *args = sys.argv[1:]
sys.exit(main(args, downloads={"TEST": Weights(Path(path), int(size), sha256, (url,))}))
"""


def run_cli(weights: Weights, url: str, *args: str) -> subprocess.Popen:
    command = [sys.executable, "-c", DRIVER, str(weights.path), str(SIZE), SHA256, url,
               "--retries", "2", "--backoff", "0.01", "--read-timeout", "5", *args]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_keeps_the_part_and_the_next_run_resumes(server, weights):
    # The server holds the stream after GATE_AT bytes until the signal has been handled:
    # the download cannot finish first, however loaded the machine.
    server.gate = threading.Event()
    process = run_cli(weights, server.url("good"))
    part = part_path(weights)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not part.exists() or part.stat().st_size < 256 * 1024):
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=10)
    finally:
        server.gate.set()
        server.gate = None
    assert process.returncode == 130
    kept = part.stat().st_size
    assert 0 < kept < SIZE and not weights.path.exists()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.count("interrupted:") == 1
    assert f"interrupted: {kept} of {SIZE} bytes kept in {part}; run the same command again to resume" in err

    process = run_cli(weights, server.url("good"))
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "TEST: downloaded from" in out and "verified" in out
    assert server.ranges()[-1] == f"bytes={kept}-"
    assert installed(weights)


def test_module_help_and_bad_arguments():
    help_run = subprocess.run([sys.executable, "-m", "pose.download", "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=30)
    assert help_run.returncode == 0
    for option in ("--force", "--verify", "--mirror", "--only-mirrors", "--read-timeout",
                   models.MIRRORS_ENV, "file://", "exit status"):
        assert option in help_run.stdout
    # Without a .venv beside it the wrapper takes python3 from PATH: make that this one.
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    bad = subprocess.run([str(ROOT / "getModels.sh"), "NOPE"], cwd=ROOT, capture_output=True,
                         text=True, timeout=30, env={**os.environ, "PATH": path})
    assert bad.returncode == 2
    assert "unknown model 'NOPE': choose COCO, MPI, BODY_25, HAND, FACE, BLAZEPOSE, one of MMPose's (human, " in bad.stderr
    assert "yolox-tiny" in bad.stderr and bad.stderr.rstrip().endswith("or all (see --help)")
    assert "Traceback" not in bad.stderr


def test_a_complete_part_is_only_checked_and_renamed(server, weights):
    weights.path.parent.mkdir(parents=True)
    part_path(weights).write_bytes(PAYLOAD)  # interrupted between the last byte and the rename
    outcome = download(weights, [server.url("good")], policy=FAST)
    assert outcome.ok and outcome.detail == "completed from an earlier run's .part, verified"
    assert installed(weights) and server.log == []
    weights.path.unlink()
    part_path(weights).write_bytes(PAYLOAD + b"junk")  # longer than the file: useless
    assert download(weights, [server.url("good")], policy=FAST).ok
    assert installed(weights) and server.ranges() == [None]


# --------------------------------------------------------------------------- MD5-only weights

MD5 = hashlib.md5(PAYLOAD).hexdigest()


@pytest.fixture
def md5_weights(tmp_path) -> Weights:
    """Weights known only by an MD5, as OpenPose publishes BODY_25's."""
    return Weights(tmp_path / "models" / NAME, size=SIZE, sha256=None, urls=(), md5=MD5)


def test_md5_only_weights_download_resume_and_verify(server, md5_weights):
    outcome = download(md5_weights, [server.url("cut")], policy=FAST)
    assert outcome.ok and installed(md5_weights)
    assert server.ranges() == [None, f"bytes={SIZE // 2}-"]  # the MD5 spans both requests
    ok, reason = verify_file(md5_weights)
    assert ok and f"MD5 {MD5[:16]}" in reason


def test_md5_mismatch_is_named_and_the_mirror_skipped(server, md5_weights):
    outcome = download(md5_weights, [server.url("corrupt"), server.url("good")], policy=FAST)
    assert outcome.ok and installed(md5_weights)
    bad = hashlib.md5(server.corrupt).hexdigest()
    assert outcome.tried == [(server.url("corrupt"), f"checksum mismatch: got MD5 {bad}")]
    md5_weights.path.write_bytes(server.corrupt)
    assert verify_file(md5_weights) == (
        False, f"checksum mismatch: {md5_weights.path} has MD5 {bad}, expected {MD5}")


def test_every_published_checksum_must_match(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(PAYLOAD)
    both = Weights(path, SIZE, SHA256, (), md5=MD5)
    assert verify_file(both)[0]
    wrong_md5 = Weights(path, SIZE, SHA256, (), md5="0" * 32)
    ok, reason = verify_file(wrong_md5)
    assert not ok and reason.endswith(f"has MD5 {MD5}, expected {'0' * 32}")
    with pytest.raises(ValueError, match="needs a SHA-256 or an MD5"):
        Weights(path, SIZE, None, ())


def test_md5_only_hand_install_instructions_name_md5_tools(md5_weights):
    text = " ".join(models.manual_instructions(md5_weights, []).split())  # undo the wrapping
    assert f"MD5 {MD5}" in text and f"md5sum {NAME}" in text and f"-hashfile {NAME} MD5" in text
    assert "SHA-256" not in text and "sha256sum" not in text


def _names(asked):
    """getModels' choice of files for `asked`, by name."""
    from pose.families.openpose.spec import DOWNLOADS
    return [name for name, _ in download_cli._select(asked, DOWNLOADS, {}, {})]


def test_body25_is_a_download_choice():
    from pose.families.openpose.spec import DOWNLOADS, MODELS

    assert list(DOWNLOADS) == ["COCO", "MPI", "BODY_25", "HAND", "FACE"]
    assert DOWNLOADS["BODY_25"] is MODELS["BODY_25"].weights
    assert _names(["body_25"]) == ["BODY_25"]
    assert _names(["all"]) == ["COCO", "MPI", "BODY_25", "HAND", "FACE"]


# --------------------------------------------------------------------------- weights without a size

@pytest.fixture
def sizeless(tmp_path) -> Weights:
    """Weights known by an MD5 and no size, as OpenPose publishes the hand and face files."""
    return Weights(tmp_path / "models" / NAME, size=None, sha256=None, urls=(), md5=MD5)


def test_hand_and_face_are_download_choices_with_openposes_md5():
    from pose.families.openpose.spec import DOWNLOADS, PARTS

    assert _names(["hand", "Face"]) == ["HAND", "FACE"]
    hand, face = DOWNLOADS["HAND"], DOWNLOADS["FACE"]
    assert hand is PARTS["HAND"].weights and face is PARTS["FACE"].weights
    assert (hand.path.parent.name, hand.path.name) == ("hand", "pose_iter_102000.caffemodel")
    assert (face.path.parent.name, face.path.name) == ("face", "pose_iter_116000.caffemodel")
    assert hand.checksums() == {"md5": "a82cfc3fea7c62f159e11bd3674c1531"}
    assert face.checksums() == {"md5": "e747180d728fa4e4418c465828384333"}
    assert hand.size is None and face.size is None  # the reference publishes ~147 / ~154 MB only


def test_sizeless_weights_resume_with_the_servers_length_and_verify_by_md5(server, sizeless):
    outcome = download(sizeless, [server.url("cut")], policy=FAST)
    assert outcome.ok and installed(sizeless)
    assert server.ranges() == [None, f"bytes={SIZE // 2}-"]
    ok, reason = verify_file(sizeless)
    assert ok and f"MD5 {MD5[:16]}" in reason
    sizeless.path.write_bytes(PAYLOAD[:1000])  # no size to compare: the checksum says it
    ok, reason = verify_file(sizeless)
    assert not ok and reason.startswith("checksum mismatch")


def test_sizeless_weights_reject_wrong_files(server, sizeless):
    outcome = download(sizeless, [server.url("htmlbin"), server.url("corrupt"), server.url("good")], policy=FAST)
    assert outcome.ok and installed(sizeless)
    assert "HTML page" in outcome.tried[0][1]
    assert outcome.tried[1] == (server.url("corrupt"), f"checksum mismatch: got MD5 {hashlib.md5(server.corrupt).hexdigest()}")


def test_sizeless_part_is_adopted_when_whole_and_resumed_when_not(server, sizeless):
    sizeless.path.parent.mkdir(parents=True)
    part_path(sizeless).write_bytes(PAYLOAD)
    outcome = download(sizeless, [server.url("good")], policy=FAST)
    assert outcome.detail == "completed from an earlier run's .part, verified" and installed(sizeless)
    sizeless.path.unlink()
    part_path(sizeless).write_bytes(PAYLOAD[:700_000])
    assert download(sizeless, [server.url("good")], policy=FAST).ok and installed(sizeless)
    assert server.ranges() == ["bytes=700000-"]


def test_sizeless_instructions_and_cli(server, sizeless, capsys):
    from pose.families.openpose.spec import WEIGHTS_LICENCE

    text = " ".join(models.manual_instructions(sizeless, []).split())
    assert f"get {NAME} (MD5 {MD5})" in text and "bytes" not in text.split("put it at")[0]
    good = Weights(sizeless.path, None, None, (server.url("good"),), md5=MD5)
    assert main(["--quiet"], downloads={"TEST": good}) == 0
    assert WEIGHTS_LICENCE in capsys.readouterr().out
    assert main(["--verify"], downloads={"TEST": good}) == 0 and installed(sizeless)


def test_a_mirror_that_streams_forever_or_claims_a_terabyte_is_stopped_in_one_line(server, sizeless, monkeypatch):
    """Issue 24's cases: the stream filled the disk and ended in three chained tracebacks."""
    monkeypatch.setattr(models, "MAX_DOWNLOAD_BYTES", 4 * SIZE)
    outcome = download(sizeless, [server.url("endless"), server.url("huge")], policy=FAST)
    assert not outcome.ok and not part_path(sizeless).exists()
    assert outcome.tried[0][1] == f"sent more than {4 * SIZE} bytes without saying how many; stopped"
    assert outcome.tried[1][1] == f"announced {10 ** 12} bytes, more than a model file can be (at most {4 * SIZE})"


def test_a_download_stops_before_the_disk_is_full(server, sizeless, monkeypatch):
    """Half the file's size left above the reserve: the endless stream stops there."""
    st = os.statvfs(sizeless.path.parent.parent)
    monkeypatch.setattr(models, "DISK_RESERVE_BYTES", st.f_bavail * st.f_frsize - SIZE // 2)
    outcome = download(sizeless, [server.url("endless")], policy=FAST)
    assert not outcome.ok and "\n" not in outcome.detail
    assert outcome.detail.startswith(f"stopped downloading {NAME}: ") and "nearly full" in outcome.detail
    assert not part_path(sizeless).exists()


# --------------------------------------------------------------------------- faults (issue 13)


def test_two_runs_at_once_share_one_download_and_install_only_verified_bytes(server, weights):
    """Before: the second run appended to the first's .part, the first renamed the grown
    file into place and said "verified" over a corrupt file."""
    server.gate = threading.Event()  # the first download stops at 256 KiB until the second waits
    slow = ("--read-timeout", "60")  # the gate is not a dead server
    first = run_cli(weights, server.url("good"), *slow)
    part = part_path(weights)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not part.exists() or part.stat().st_size < 256 * 1024):
        time.sleep(0.01)
    second = run_cli(weights, server.url("good"), *slow)
    said: List[str] = []
    reader = threading.Thread(target=lambda: said.extend(second.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any("waiting" in line for line in said):
        time.sleep(0.02)
    server.gate.set()
    out1, err1 = first.communicate(timeout=60)
    out2 = second.stdout.read()
    second.wait(timeout=60)
    reader.join(timeout=10)
    assert first.returncode == 0 and second.returncode == 0, (err1, said)
    assert said == [f"{NAME}: another download (process {first.pid}) is working on it; "
                    "waiting for it to finish\n"]
    assert "TEST: already present, verified (downloaded by another run)" in out2
    assert installed(weights) and verify_file(weights)[0]
    assert server.ranges() == [None]  # one download, not two
    assert not models.FileLock(weights.path).file.exists()


def test_bytes_changed_after_the_download_checked_them_are_not_installed(server, weights, monkeypatch):
    """What takes the final name is read back and checked, not trusted from the stream."""
    real_fetch = models._fetch_from

    def fetch_then_grow(url, w, policy, session, say):
        real_fetch(url, w, policy, session, say)
        with open(part_path(w), "ab") as f:  # another program appends to the .part
            f.write(b"junk")

    monkeypatch.setattr(models, "_fetch_from", fetch_then_grow)
    outcome = download(weights, [server.url("good")], policy=FAST)
    assert not outcome.ok and not weights.path.exists()
    assert outcome.tried == [(server.url("good"), f"the file on disk has {SIZE + 4} bytes, expected {SIZE} "
                                                  "(changed while it was written?)")]
    assert sorted(p.name for p in weights.path.parent.iterdir()) == []  # no temporary left either


def test_a_killed_runs_lock_and_temporary_do_not_get_in_the_way(server, weights):
    weights.path.parent.mkdir(parents=True)
    stale_lock = models.FileLock(weights.path).file
    stale_lock.write_text("999999\n")  # its process is gone: the lock is free
    stale_temp = weights.path.with_name("pose_iter_test.tmp-k3j9x0qz.caffemodel")
    stale_temp.write_bytes(PAYLOAD)  # killed between its two renames
    assert download(weights, [server.url("good")], policy=FAST).ok
    assert installed(weights)
    assert sorted(p.name for p in weights.path.parent.iterdir()) == [NAME]


@pytest.mark.skipif(os.name != "posix", reason="sends SIGTERM")
def test_sigterm_keeps_the_part_like_ctrl_c(server, weights):
    server.delay = 0.02
    process = run_cli(weights, server.url("good"))
    part = part_path(weights)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (not part.exists() or part.stat().st_size < 256 * 1024):
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 143, err
    kept = part.stat().st_size
    assert 0 < kept < SIZE and not weights.path.exists() and "Traceback" not in err
    assert f"terminated: {kept} of {SIZE} bytes kept in {part}; run the same command again to resume" in err
    assert not models.FileLock(weights.path).file.exists()
def test_a_download_prints_the_weights_licence_once(server, tmp_path, capsys):
    """The line that tells users OpenPose's weights are for non-commercial research."""
    from pose.families.openpose.spec import WEIGHTS_LICENCE

    one = Weights(tmp_path / "a" / NAME, SIZE, SHA256, (server.url("good"),))
    two = Weights(tmp_path / "b" / NAME, SIZE, SHA256, (server.url("good"),))
    assert main(["--quiet"], downloads={"ONE": one, "TWO": two}) == 0
    out = capsys.readouterr().out
    assert out.count(WEIGHTS_LICENCE) == 1 and "non-commercial research" in WEIGHTS_LICENCE
    assert main(["--quiet"], downloads={"ONE": one}) == 0  # present: nothing downloaded, no line
    assert WEIGHTS_LICENCE not in capsys.readouterr().out
