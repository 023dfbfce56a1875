"""getModels.sh for MMPose's models (pose.download.archive) against a real HTTP server on
127.0.0.1 that the tests start: zips as mmpose publishes them (a folder with end2end.onnx
and its JSON), the bare ONNX as the Hugging Face mirror serves it, a cut answer, a 404, a
zip whose content changed. No checksum is published: the first download's SHA-256 is
recorded beside the file and every later one is checked against it."""
from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile
from dataclasses import replace
from typing import Dict, List, Optional, Tuple

import pytest

from pose.download.archive import fetch_archive, recorded, urls_for_archive, verify_archive
from pose.download.cli import main
from pose.download.fetch import Policy
from pose.families.rtmpose import facts
from pose.families.rtmpose.models import archives, download_names
from tests.support.loopback import QuietHandler, serve, stop

FAST = Policy(connect_timeout=2, read_timeout=2, retries=2, backoff=0.01, progress=False)


def _onnx_bytes(seed: int, size: int = 300_000) -> bytes:
    """Looks like an ONNX file to the downloader: a ModelProto's first byte, then noise."""
    return b"\x08" + random.Random(seed).randbytes(size - 1)


def _zip(onnx: bytes, folder: str = "rtmpose-m_simcc-body7", member: str = "end2end.onnx") -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{folder}/{member}", onnx)
        z.writestr(f"{folder}/pipeline.json", json.dumps({"pipeline": "mmpose"}))
    return data.getvalue()


class ZipServer:
    """The first path segment picks the behaviour: good (Range honoured), cut (the first
    answer stops half-way), missing (404), changed (another file under the same name); the
    rest of the path names the file in `files` (zips and bare ONNX)."""

    def __init__(self, files: Dict[str, bytes], changed: Optional[Dict[str, bytes]] = None):
        self.files, self.changed = files, changed or {}
        self.log: List[Tuple[str, Optional[str]]] = []
        self.cuts_left = 1
        self.httpd = serve(self._handler())

    def base(self, behaviour: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{behaviour}/"

    def close(self) -> None:
        stop(self.httpd)

    def _handler(self):
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                behaviour, name = self.path.strip("/").split("/", 1)
                server.log.append((behaviour, self.headers.get("Range")))
                table = server.changed if behaviour == "changed" else server.files
                if behaviour == "missing" or name not in table:
                    self.send_error(404)
                    return
                data = table[name]
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "application/zip" if name.endswith(".zip") else "application/octet-stream")
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                body = data[start:]
                if behaviour == "cut" and server.cuts_left:
                    server.cuts_left -= 1
                    body = body[:len(body) // 2]
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


POSE = _onnx_bytes(1, 1_500_000)  # several of the downloader's 256 KiB reads: a cut leaves some behind
DETECTOR = _onnx_bytes(2, 120_000)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENCV_HPE_HOME", str(tmp_path / "models"))
    return tmp_path / "models"


@pytest.fixture
def server():
    table = archives()
    pose, detector = table["rtmpose-m"], table[facts.DEFAULT_DETECTOR]
    files = {pose.zip_name: _zip(POSE), detector.zip_name: _zip(DETECTOR, "yolox"),
             pose.zip_name[:-4] + ".onnx": POSE}
    s = ZipServer(files, changed={pose.zip_name: _zip(_onnx_bytes(3))})
    yield s
    s.close()


def test_every_model_and_detector_has_a_download_name_and_the_host_then_the_mirror():
    names = download_names()
    assert names["human"] == ["rtmpose-m", facts.DEFAULT_DETECTOR]
    assert names["body_with_feet"] == ["rtmpose-m-halpe26", facts.DEFAULT_DETECTOR] and names["rtmo-s"] == ["rtmo-s"]
    assert {"yolox-nano", "yolox-tiny", "yolox-m"} <= set(names)
    urls = archives()["rtmpose-s"].urls
    assert urls == (facts.ONNX_HOST + "rtmposev1/onnx_sdk/rtmpose-s_simcc-body7_pt-body7_420e-256x192-acd4a1ef_20230504.zip",
                    "https://huggingface.co/datasets/DavidPagnon/rtmlib_models/resolve/main/mmpose/rtmposev1/onnx_sdk/"
                    "rtmpose-s_simcc-body7_pt-body7_420e-256x192-acd4a1ef_20230504.onnx")


def test_getmodels_human_unpacks_both_zips_records_their_sha256_and_prints_the_licence(home, server, capsys):
    assert main(["human", "--mirror", server.base("good"), "--only-mirrors", "-q"]) == 0
    out = capsys.readouterr().out
    table = archives()
    pose, detector = table["rtmpose-m"], table[facts.DEFAULT_DETECTOR]
    assert pose.path == home / "rtmpose" / "rtmpose-m.onnx" and pose.path.read_bytes() == POSE
    assert detector.path.read_bytes() == DETECTOR
    record = recorded(pose)
    assert record["sha256"] == hashlib.sha256(POSE).hexdigest() and record["size"] == len(POSE)
    assert record["archive"]["sha256"] == hashlib.sha256(server.files[pose.zip_name]).hexdigest()
    assert "no checksum is published: recorded its SHA-256" in out
    assert out.count(facts.LICENCE) == 1 and "Apache-2.0" in facts.LICENCE
    assert "free for commercial use" not in facts.LICENCE.replace("not declared free for commercial use", "")
    assert not list((home / "rtmpose").glob("*.part")) and not list((home / "rtmpose").glob("*.zip"))
    # present: checked against the record, nothing fetched
    requests = len(server.log)
    assert main(["human", "--mirror", server.base("good"), "--only-mirrors", "-q"]) == 0
    assert len(server.log) == requests and "verified against its first download" in capsys.readouterr().out
    assert main(["--verify", "rtmpose-m"]) == 0


def test_a_cut_download_resumes_and_a_dead_host_falls_back_to_the_mirror(home, server):
    pose = archives()["rtmpose-m"]
    outcome = fetch_archive(pose, urls_for_archive(pose, [server.base("cut")], only_mirrors=True), policy=FAST)
    assert outcome.ok and pose.path.read_bytes() == POSE
    ranges = [r for _, r in server.log]
    assert len(ranges) == 2 and ranges[0] is None and int(ranges[1][6:-1]) > 0  # the second request resumed
    pose.path.unlink()
    pose.record.unlink()
    host_down = [server.base("missing") + pose.zip_name, server.base("good") + pose.zip_name[:-4] + ".onnx"]
    outcome = fetch_archive(pose, host_down, policy=FAST)
    assert outcome.ok and "404" in outcome.tried[0][1] and pose.path.read_bytes() == POSE
    assert recorded(pose)["source"].endswith(".onnx") and recorded(pose)["archive"] is None


def test_a_later_download_that_differs_from_the_first_is_refused(home, server):
    pose = archives()["rtmpose-m"]
    assert fetch_archive(pose, [server.base("good") + pose.zip_name], policy=FAST).ok
    first = recorded(pose)
    outcome = fetch_archive(pose, [server.base("changed") + pose.zip_name], force=True, policy=FAST)
    assert not outcome.ok and "differs from the first download" in outcome.tried[0][1]
    assert pose.path.read_bytes() == POSE and recorded(pose) == first  # neither the file nor the record moved
    # the bare ONNX of the mirror is checked against the same record
    assert fetch_archive(pose, [server.base("good") + pose.zip_name[:-4] + ".onnx"], force=True, policy=FAST).ok


def test_verify_catches_a_changed_file_and_a_file_without_record(home, server, capsys):
    pose = archives()["rtmpose-m"]
    assert fetch_archive(pose, [server.base("good") + pose.zip_name], policy=FAST).ok
    data = bytearray(pose.path.read_bytes())
    data[1000] ^= 0xFF
    pose.path.write_bytes(bytes(data))
    ok, detail = verify_archive(pose)
    assert not ok and "checksum mismatch" in detail
    assert main(["--verify", "rtmpose-m"]) == 1
    assert "run ./getModels.sh rtmpose-m" in capsys.readouterr().err
    pose.record.unlink()
    assert "no record of its first download" in verify_archive(pose)[1]
    # placed by hand: getModels records it (trust starts there) without downloading
    outcome = fetch_archive(pose, [], policy=FAST)
    assert outcome.ok and "recorded its SHA-256" in outcome.detail and verify_archive(pose)[0]


def test_a_zip_without_the_network_or_not_a_zip_is_refused(home, server):
    pose = archives()["rtmpose-m"]
    server.files["bad.zip"] = _zip(POSE, member="model.onnx")
    server.files["html.zip"] = b"<html>gone</html>"
    outcome = fetch_archive(replace(pose, zip_name="bad.zip"), [server.base("good") + "bad.zip",
                                                                 server.base("good") + "html.zip"], policy=FAST)
    assert not outcome.ok and "holds 0 end2end.onnx" in outcome.tried[0][1]
    assert "HTML" in outcome.tried[1][1] or "not a valid zip" in outcome.tried[1][1]
    assert not pose.path.exists() and "put it at" in outcome.detail
