"""Operator commands: `python -m therabee.manage migrate|seed|wait-db|urls|serve`."""

from __future__ import annotations

import argparse
import sys
import time

from therabee.settings import PROJECT_ROOT, get_settings


def migrate() -> None:
    """Upgrade the database in THERABEE_DATABASE_URL to the newest migration."""
    from alembic import command
    from alembic.config import Config

    command.upgrade(Config(str(PROJECT_ROOT / "alembic.ini")), "head")


def seed() -> None:
    """Load the demo practice (idempotent) and print its logins."""
    from therabee.progress import progress
    from therabee.services.demo import PEOPLE, load_demo_data

    with progress("seeding the demo practice", PEOPLE) as advance:
        logins = load_demo_data(advance)
    print("Demo logins:")
    for role, email, password in logins:
        print(f"  {role:<10} {email:<32} {password}")


def wait_db(timeout: float) -> None:
    """Block until the database accepts connections, or exit non-zero after `timeout` s."""
    import sqlalchemy as sa

    from therabee.db.engine import get_engine

    deadline = time.monotonic() + timeout
    while True:
        try:
            with get_engine().connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return
        except sa.exc.OperationalError as error:
            if time.monotonic() > deadline:
                sys.exit(f"database not reachable after {timeout:.0f} s: {error}")
            time.sleep(1)


def urls() -> None:
    """Print where the running app answers."""
    base = get_settings().public_url.rstrip("/")
    print(f"UI:        {base}/")
    print(f"API docs:  {base}/api/v1/docs")
    print(f"Health:    {base}/api/v1/health")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m therabee.manage")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help=migrate.__doc__)
    commands.add_parser("seed", help=seed.__doc__)
    wait = commands.add_parser("wait-db", help=wait_db.__doc__)
    wait.add_argument("--timeout", type=float, default=30.0)
    commands.add_parser("urls", help=urls.__doc__)
    commands.add_parser("serve", help="the app (reflex run --env prod) and, with THERABEE_REDIS_URL "
                        "set, one Celery worker and beat; Ctrl-C stops all. Other options go to reflex run")
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "serve":
        parser.error("unrecognized arguments: " + " ".join(extra))

    if args.command == "migrate":
        migrate()
    elif args.command == "seed":
        seed()
    elif args.command == "wait-db":
        wait_db(args.timeout)
    elif args.command == "serve":
        from therabee.serve import serve

        sys.exit(serve(get_settings(), extra))
    else:
        urls()


if __name__ == "__main__":
    main()
