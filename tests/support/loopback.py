"""The scaffolding of the tests' HTTP servers on 127.0.0.1 (mirrors, model hosts, video
streams): a quiet server on a free port in a daemon thread, and a request handler that
logs nothing. Each test server keeps only its own behaviour."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: closing ends a body without a length

    def log_message(self, *args) -> None:
        pass


def serve(handler: type) -> ThreadingHTTPServer:
    """`handler` served on 127.0.0.1 at a free port (httpd.server_address[1]) until stop()."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.handle_error = lambda request, address: None  # clients hang up on purpose
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    return httpd


def stop(httpd: ThreadingHTTPServer) -> None:
    httpd.shutdown()
    httpd.server_close()
