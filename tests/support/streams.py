"""A video served over HTTP on 127.0.0.1 that stalls: what a dead camera or a frozen
stream server looks like to OpenCV's FFmpeg backend.

The server honours Range requests (FFmpeg fetches an mp4's index from the end of the
file that way) and answers every request that starts before `stall_at` with the bytes up
to `stall_at`, then silence until the test ends. With `stall_at=0` nothing but headers
ever arrives, so even opening the stream stalls.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import List, Optional

from tests.support.loopback import QuietHandler, serve, stop


class StallingVideoServer:
    def __init__(self, video: Path, stall_at: Optional[int] = None):
        self.data = Path(video).read_bytes()
        self.stall_at = len(self.data) if stall_at is None else stall_at
        self.requests: List[Optional[str]] = []  # the Range header of each request
        self.release = threading.Event()  # set at close: stalled answers end, sockets close
        self.httpd = serve(self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/clip.mp4"

    def close(self) -> None:
        self.release.set()
        stop(self.httpd)

    def _handler(self):
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                data, range_header = server.data, self.headers.get("Range")
                server.requests.append(range_header)
                start = int(range_header.split("=")[1].split("-")[0]) if range_header else 0
                if range_header:
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                try:
                    if start < server.stall_at or server.stall_at == 0:
                        self.wfile.write(data[start:server.stall_at])
                        self.wfile.flush()
                        if server.stall_at < len(data):
                            server.release.wait()
                    else:  # past the stall point: the index at the end of an mp4
                        self.wfile.write(data[start:])
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
