"""Throughput of pose.models on this machine, without the internet.

Serves a random file of the COCO weights' size (209274056 bytes) from 127.0.0.1 and from
a file:// mirror, and times download() and verify_file(). The network is out of the
picture, so the figures are the tool's own overhead (hashing, writing, fsync), the
floor under any real download.

    python -m benchmarks.models_download [--bytes N]
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import os
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pose.download.fetch import _VERIFIED, Policy, download, verify_file
from pose.families.openpose.spec import COCO_WEIGHTS, Weights


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=COCO_WEIGHTS.size)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        served = root / "served"
        served.mkdir()
        source = served / "bench.caffemodel"
        data = os.urandom(args.bytes)
        source.write_bytes(data)
        weights = Weights(root / "out" / "bench.caffemodel", args.bytes,
                          hashlib.sha256(data).hexdigest(), ())
        del data
        httpd = ThreadingHTTPServer(("127.0.0.1", 0),
                                    functools.partial(QuietHandler, directory=str(served)))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/bench.caffemodel"
        policy = Policy(progress=False)
        mib = args.bytes / 2**20
        for label, mirror in (("http://127.0.0.1", url), ("file://", source.as_uri())):
            t = time.perf_counter()
            outcome = download(weights, [mirror], force=True, policy=policy)
            dt = time.perf_counter() - t
            assert outcome.ok, outcome.detail
            print(f"download from {label:17s} {mib:7.1f} MiB in {dt:5.2f} s = {mib / dt:6.0f} MiB/s")
        _VERIFIED.clear()
        t = time.perf_counter()
        ok, _ = verify_file(weights)
        dt = time.perf_counter() - t
        assert ok
        print(f"verify_file, first call       {mib:7.1f} MiB in {dt:5.2f} s = {mib / dt:6.0f} MiB/s")
        t = time.perf_counter()
        verify_file(weights)
        print(f"verify_file, cached           {(time.perf_counter() - t) * 1e3:.2f} ms")
        httpd.shutdown()


if __name__ == "__main__":
    main()
