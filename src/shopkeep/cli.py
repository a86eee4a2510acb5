"""The ``shopkeep`` command: serve, worker, scheduler, dispatcher, migrate, createstaff, demo,
manage."""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import signal
import subprocess
import sys
import time


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopkeep.settings")
    import django

    django.setup()


def _call(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup_django()
    _call("migrate", "--noinput", *(["-v", "0"] if args.quiet else []))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _setup_django()
    # django-tasks' database worker (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, so any
    # number of workers may run side by side) plus leases and a sweeper: a killed worker's
    # tasks run again (shopkeep.core.worker).
    from shopkeep.core.worker import run_worker

    run_worker(queues=args.queues, interval=args.interval, batch=args.batch)
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    _setup_django()
    import json

    from shopkeep.core.jobs import jobs_status

    status = jobs_status()
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print("tasks: " + (", ".join(f"{k.lower()} {v}" for k, v in sorted(status["counts"].items()))
                       or "none"))
    for lease in status["leases"]:
        state = (f"expires in {lease['expires_in_s']}s" if lease["expires_in_s"] >= 0
                 else f"expired {-lease['expires_in_s']}s ago: the next sweep re-queues it")
        print(f"  running {lease['task']} on worker {lease['worker']} "
              f"(attempt {lease['attempt']}), lease {state}")
    for row in status["failed"]:
        print(f"  failed {row['task']} {row['path']} at {row['finished_at']}: {row['error']}")
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    _setup_django()
    from shopkeep.core.scheduler import run_forever

    run_forever(tick_seconds=args.tick)
    return 0


def cmd_dispatcher(args: argparse.Namespace) -> int:
    _setup_django()
    import asyncio

    from asgiref.sync import sync_to_async
    from django.db import connections

    from shopkeep.core.heartbeat import Beater
    from shopkeep.webhooks.dispatcher import Dispatcher

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        dispatcher = Dispatcher(per_endpoint=args.per_endpoint, poll_interval=args.poll)
        dispatcher.beater = Beater("dispatcher")
        try:
            await dispatcher.run(stop=stop, until_idle=args.until_idle)
        finally:
            # The database work ran on asgiref's thread: close its connection there.
            await sync_to_async(connections.close_all)()

    asyncio.run(main())
    return 0


def cmd_createstaff(args: argparse.Namespace) -> int:
    _setup_django()
    from shopkeep.accounts.models import User
    from shopkeep.accounts.services import user_create

    email = args.email.strip().lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        existing.is_staff = True
        existing.save(update_fields=["is_staff"])
        print(f"{email} is now platform staff.")
        return 0
    password = os.environ.get("SHOPKEEP_STAFF_PASSWORD") or (
        getpass.getpass("Password: ") if sys.stdin.isatty() else "")
    if len(password) < 10:
        print("A password of at least 10 characters is required (prompt or "
              "SHOPKEEP_STAFF_PASSWORD).", file=sys.stderr)
        return 2
    user_create(email=email, password=password, is_staff=True, email_verified=True)
    print(f"Created platform staff account {email}.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _setup_django()
    from shopkeep.demo import demo_seed

    result = demo_seed()
    print("")
    print("  Demo store ready: " + result["store_url"])
    print("  Storefront:       " + result["storefront_url"])
    print(f"  Owner login:  {result['owner_email']}  /  {result['owner_password']}")
    print(f"  Staff login:  {result['staff_email']}  /  {result['staff_password']}")
    print(f"  Try at checkout: coupon {result['coupon_code']}, gift card "
          f"{result['gift_card_code']} ({result['gift_card_balance']})")
    print(f"  Plans:        {result['plans']}")
    from shopkeep.demo_agent import CONTROL_PORT, demo_agent_dir, demo_agent_prepare_for_demo

    if demo_agent_prepare_for_demo():
        print(f"  Game server:  simulated by `serve --demo-agent`; commands it runs go to "
              f"{demo_agent_dir() / 'game.log'}")
        print(f"                players join with `shopkeep-agent simulate join NAME "
              f"--control-port {CONTROL_PORT}`")
    print("")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopkeep.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["shopkeep manage", *args.rest])
    return 0


def _deploy_check() -> None:
    from django.conf import settings
    from django.core.management import call_command

    if settings.PRODUCTION:
        # Fails (SystemCheckError) on any warning: production must pass check --deploy cleanly.
        call_command("check", "--deploy", "--fail-level", "WARNING")
    if not settings.SERVESTATIC_USE_FINDERS:
        call_command("collectstatic", "--noinput", "-v", "0")


def uvicorn_argv(*, host: str, port: int, workers: int = 1,
                 forwarded_allow_ips: str = "") -> list[str]:
    """The web server's command line. X-Forwarded-For/-Proto are believed only from the
    proxies named by ``--forwarded-allow-ips``: uvicorn's own default trusts them from
    127.0.0.1, which would let anyone reaching the port through a local relay pick the
    address that per-IP login limits count."""
    return [
        sys.executable, "-m", "uvicorn", "shopkeep.asgi:application",
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--lifespan", "off", "--no-server-header",
        *(["--proxy-headers", "--forwarded-allow-ips", forwarded_allow_ips]
          if forwarded_allow_ips else ["--no-proxy-headers"]),
    ]


def _warn_per_process_cache(workers: int) -> None:
    from django.conf import settings

    from shopkeep.core.checks import per_process_cache_warning

    if settings.PRODUCTION and (warning := per_process_cache_warning(workers=workers)):
        print(warning, file=sys.stderr, flush=True)


def metrics_env(workers: int) -> dict[str, str]:
    """The web server's environment. Several web processes count into one directory of
    prometheus-client's multiprocess files, emptied at every start (files of processes from
    a previous run would be summed in); one process keeps its counts in memory."""
    env = dict(os.environ)
    if workers > 1 and not env.get("PROMETHEUS_MULTIPROC_DIR"):
        from django.conf import settings

        directory = settings.VAR_DIR / "metrics"
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return env


def raise_open_files() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit; returns the soft limit now in force. Each
    held long-poll is an open socket, and distributions often start processes at a soft
    limit of 1,024 under a hard limit hundreds of times larger (docs/scaling.md)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
        return target
    return soft


def cmd_serve(args: argparse.Namespace) -> int:
    from shopkeep.conf import bind_origin

    raise_open_files()  # inherited by the web server and workers started below

    # Before settings load: this process, the web server and the workers it starts all build
    # links (e-mails, agent config) for the port that is really listening.
    os.environ["SHOPKEEP_SERVE_ORIGIN"] = bind_origin(args.host, args.port)
    _setup_django()
    _deploy_check()
    if not args.no_migrate:
        _call("migrate", "--noinput", "-v", "0")
    children: list[subprocess.Popen] = []
    base = [sys.executable, "-m", "shopkeep.cli"]
    if not args.no_worker:
        children.append(subprocess.Popen([*base, "worker"]))  # noqa: S603
        children.append(subprocess.Popen([*base, "scheduler"]))  # noqa: S603
        children.append(subprocess.Popen([*base, "dispatcher"]))  # noqa: S603
    _warn_per_process_cache(args.workers)
    server = subprocess.Popen(uvicorn_argv(  # noqa: S603
        host=args.host, port=args.port, workers=args.workers,
        forwarded_allow_ips=args.forwarded_allow_ips), env=metrics_env(args.workers))
    children.append(server)
    extras = _start_demo_agent() if args.demo_agent else []
    print(f"Shopkeep listening on {os.environ['SHOPKEEP_SERVE_ORIGIN']} "
          f"({'web only' if args.no_worker else 'web + worker + scheduler + dispatcher'})",
          flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    exit_code = 0
    try:
        while not stopping:
            for extra in list(extras):
                if extra.poll() is not None:  # the demo game is a guest: report, carry on
                    print(f"demo {extra.args[2]} exited with {extra.returncode}",
                          file=sys.stderr)
                    extras.remove(extra)
            for child in children:
                code = child.poll()
                if code is not None:
                    print(f"process {child.args[-1] if child is not server else 'web'} exited "
                          f"with {code}; stopping", file=sys.stderr)
                    stopping, exit_code = True, code or 1
            time.sleep(0.5)
    finally:
        for child in [*extras, *children]:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 15
        for child in [*extras, *children]:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
    return exit_code


def _start_demo_agent() -> list[subprocess.Popen]:
    """The demo store's simulated game server and its agent (see shopkeep.demo_agent)."""
    import importlib.util

    from shopkeep.demo_agent import demo_agent_commands

    if importlib.util.find_spec("shopkeep_agent") is None:
        print("--demo-agent: shopkeep-agent is not installed (pip install -e ./agent)",
              file=sys.stderr)
        return []
    commands = demo_agent_commands()
    if not commands:
        print("--demo-agent: run `shopkeep demo` first", file=sys.stderr)
    return [subprocess.Popen(argv, env={**os.environ, **extra})  # noqa: S603
            for argv, extra in commands]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopkeep", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve",
                           help="web server + worker + scheduler + dispatcher (one machine)")
    serve.add_argument("--host", default=os.environ.get("SHOPKEEP_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("SHOPKEEP_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1, help="web worker processes")
    serve.add_argument("--no-worker", action="store_true",
                       help="web only (run `shopkeep worker`, `scheduler` and `dispatcher` "
                       "elsewhere)")
    serve.add_argument("--no-migrate", action="store_true")
    serve.add_argument("--demo-agent", action="store_true",
                       help="also run the demo store's simulated game server and its agent")
    serve.add_argument("--forwarded-allow-ips", default="",
                       help="trust X-Forwarded-* from these proxy addresses")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run background tasks")
    worker.add_argument("--queues", default="*", help="comma-separated queue names, * for all")
    worker.add_argument("--interval", type=float, default=1.0)
    worker.add_argument("--batch", action="store_true", help="run what is due, then exit")
    worker.set_defaults(func=cmd_worker)

    jobs = sub.add_parser("jobs", help="background tasks: counts, leases, latest failures")
    jobs.add_argument("--json", action="store_true")
    jobs.set_defaults(func=cmd_jobs)

    scheduler = sub.add_parser("scheduler", help="enqueue periodic jobs when due")
    scheduler.add_argument("--tick", type=float, default=5.0)
    scheduler.set_defaults(func=cmd_scheduler)

    dispatcher = sub.add_parser("dispatcher", help="send webhook deliveries")
    dispatcher.add_argument("--per-endpoint", type=int, default=None,
                            help="requests in flight per endpoint (SHOPKEEP_WEBHOOK_PER_ENDPOINT)")
    dispatcher.add_argument("--poll", type=float, default=0.5,
                            help="seconds between looks for new work when idle")
    dispatcher.add_argument("--until-idle", action="store_true",
                            help="exit once nothing is due")
    dispatcher.set_defaults(func=cmd_dispatcher)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--quiet", action="store_true")
    migrate.set_defaults(func=cmd_migrate)

    staff = sub.add_parser("createstaff", help="create (or promote) a platform staff account")
    staff.add_argument("email")
    staff.set_defaults(func=cmd_createstaff)

    demo = sub.add_parser("demo", help="create or refresh the demo store and print its logins")
    demo.set_defaults(func=cmd_demo)

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

