"""The local AWS for tests and local serving: moto's WSGI app on 127.0.0.1 only, with
every request applied under one lock.

Stock moto_server handles requests on many threads and does not apply concurrent
DynamoDB writes atomically, unlike DynamoDB itself; serialising requests restores the
atomicity that conditional writes rely on, so concurrency tests mean something.

Usage: moto_server.py [--port N] [--port-file PATH] [--parent-pid PID]
Port 0 (the default) picks a free port; the chosen port is printed on stdout (and written
to --port-file). With --parent-pid, the server exits when that process is gone.
"""

import argparse
import os
import sys
import threading
import time

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


def serialised(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        with lock:
            captured = {}

            def capture(status, headers, exc_info=None):
                captured["start"] = (status, headers, exc_info)
                return lambda _data: None

            result = app(environ, capture)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        status, headers, exc_info = captured["start"]
        start_response(status, headers, exc_info)
        return [body]

    return handle


def watch_parent(pid, server):
    while True:
        time.sleep(0.5)
        try:
            os.kill(pid, 0)
        except OSError:
            server.shutdown()
            return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        "127.0.0.1",
        args.port,
        serialised(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    port = server.server_port
    os.environ.setdefault("MOTO_PORT", str(port))
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as handle:
            handle.write(f"{port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    print(port, flush=True)
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid, server), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
