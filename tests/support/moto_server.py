"""The local AWS for tests and local serving: moto's WSGI app on 127.0.0.1 only, with
every request applied under one lock.

Stock moto_server handles requests on many threads and does not apply concurrent
DynamoDB writes atomically, unlike DynamoDB itself; serialising requests restores the
atomicity that conditional writes rely on, so concurrency tests mean something. Its
transactions back up only the items they touch (see `lean_transactions`).

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


LOOPBACK_NAMES = {"127.0.0.1", "localhost", "[::1]"}


def loopback_only(app):
    """Answers only requests whose Host names a loopback address. A page of another site
    whose DNS name an attacker points at 127.0.0.1 (DNS rebinding) sends its own name as
    Host: without this check it could read every code this local AWS delivered
    (`/moto-api/data.json`). The SDKs, the proxy and the dev tools all name 127.0.0.1."""

    def handle(environ, start_response):
        host = environ.get("HTTP_HOST", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.lower() not in LOOPBACK_NAMES:
            body = b'{"message": "this local AWS answers only requests to a loopback address"}'
            start_response(
                "421 Misdirected Request",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return app(environ, start_response)

    return handle


def lean_transactions():
    """moto backs up each table a transaction writes, whole (a deep copy per item written),
    before applying it: its transactions then cost as much as the table is large, and their
    copies pile up in memory under load, which DynamoDB's do not. Keep moto's semantics (all
    or nothing) but back up only the items the transaction touches, and put those back when
    it is cancelled."""
    import copy

    import moto.dynamodb.models as models

    applied = models.DynamoDBBackend.transact_write_items

    class TablesByReference:
        """The `copy` module as moto's transaction sees it: tables are not copied."""

        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value, memo=None):
            if isinstance(value, models.Table):
                return value
            return copy.deepcopy(value, memo)

    def transact_write_items(self, transact_items):
        saved = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            attributes = op.get("Key") or op.get("Item")
            if table is None or not attributes:
                continue
            try:
                keys = {table.hash_key_attr: attributes[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    keys[table.range_key_attr] = attributes[table.range_key_attr]
                hash_value, range_value = self.get_keys_value(table, keys)
            except Exception:
                continue  # moto's own validation answers it
            item = table.get_item(hash_value, range_value)
            saved.append((table, hash_value, range_value, copy.deepcopy(item)))
        models.copy = TablesByReference()
        try:
            return applied(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                place = table.items[hash_value] if range_value is not None else table.items
                key = range_value if range_value is not None else hash_value
                if item is None:
                    place.pop(key, None)
                else:
                    place[key] = item
            raise
        finally:
            models.copy = copy

    models.DynamoDBBackend.transact_write_items = transact_write_items


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

    lean_transactions()
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        "127.0.0.1",
        args.port,
        loopback_only(serialised(app)),
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
