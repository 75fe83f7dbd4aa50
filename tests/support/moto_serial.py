"""moto_server deciding one request at a time.

moto checks If-Match / If-None-Match and then writes in two steps with no lock between them
(`moto/s3/responses.py`, `put_object`), so in its threaded server two requests can both pass the
check; S3 decides a conditional request atomically. Serving one request at a time gives moto
that atomicity and nothing more: a client that reads, then writes (two requests) still races,
which is what the object-store contract's concurrency tests must be able to catch.

    python -m tests.support.moto_serial -H 127.0.0.1 -p 5000   (moto_server's own options)
"""

import threading

import moto.server


def main() -> None:
    run_simple = moto.server.run_simple
    lock = threading.Lock()

    def one_at_a_time(host, port, app, **options):
        def serialised(environ, start_response):
            with lock:
                return list(app(environ, start_response))  # the whole answer, inside the lock

        run_simple(host, port, serialised, **options)

    moto.server.run_simple = one_at_a_time
    moto.server.main()


if __name__ == "__main__":
    main()
