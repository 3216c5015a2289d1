"""The ``haochaping`` command.

    haochaping serve [--host H] [--port P] [--workers N]   production server (gunicorn)
    haochaping demo [--records N]                          load demo data once
    haochaping worker                                      background tasks
    haochaping apikey create --name N --scopes a,b         print a new API key alone on stdout
    haochaping <django command> ...                        any Django management command
"""

from __future__ import annotations

import os
import sys


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haochaping.settings")
    import django

    django.setup()


def serve(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="haochaping serve", description="Serve the site with gunicorn.")
    parser.add_argument("--host", default=os.environ.get("HAOCHAPING_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("HAOCHAPING_PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("HAOCHAPING_WORKERS", "2")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("HAOCHAPING_THREADS", "4")))
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haochaping.settings")
    from gunicorn.app.wsgiapp import run

    sys.argv = [
        "gunicorn",
        "haochaping.wsgi:application",
        "--bind", f"{args.host}:{args.port}",
        "--workers", str(args.workers),
        "--threads", str(args.threads),
        "--worker-class", "gthread",
        "--access-logfile", "-",
        # Query strings stay out of the access log: they could carry tokens (never personal data, by design).
        "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        "--timeout", "60",
    ]
    print(f"好差评系统已启动： http://{args.host}:{args.port}/", file=sys.stderr)
    return run() or 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "serve":
        return serve(rest)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haochaping.settings")
    from django.core.management import execute_from_command_line

    if command == "worker":
        return execute_from_command_line(["haochaping", "db_worker", *rest]) or 0
    if command == "manage":
        rest_argv = rest
    else:
        rest_argv = [command, *rest]
    execute_from_command_line(["haochaping", *rest_argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
