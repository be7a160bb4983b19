"""The `minqing` command."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import date

from minqing.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
    except SettingsError as error:
        raise SystemExit(f"minqing: {error}") from None
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return args.handler(settings, args) or 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minqing", description="民情 minqing — neighbourhood intake service.")
    commands = parser.add_subparsers(metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP service (and a worker on the embedded default)")
    serve.add_argument("--host", default=os.environ.get("MINQING_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("MINQING_PORT", "8000")))
    serve.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    serve.add_argument("--with-worker", action=argparse.BooleanOptionalAction, default=None,
                       help="also run a queue worker (default: only on the embedded queue)")
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser("worker", help="process queued submissions (any broker)")
    worker.add_argument("--processes", type=int, default=1)
    worker.add_argument("--threads", type=int, default=None, help="threads per process (MINQING_WORKER_THREADS)")
    worker.set_defaults(handler=_worker)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply migrations up to the latest")
    upgrade.set_defaults(handler=_db_upgrade)

    directory = commands.add_parser("directory", help="the directory file (communities, staff, routing)")
    directory_commands = directory.add_subparsers(metavar="ACTION")
    check = directory_commands.add_parser("check", help="validate a directory file and summarise it")
    check.add_argument("file")
    check.set_defaults(handler=_directory_check)

    volunteers = commands.add_parser("volunteers", help="the patrol roster (平安合伙人)")
    volunteer_commands = volunteers.add_subparsers(dest="volunteers_command", required=True)
    roster = volunteer_commands.add_parser("import", help="check the office's roster CSV and write it for the directory")
    roster.add_argument("file", help="CSV: id,name,team,community,phone,active (or 编号,姓名,队伍,社区,手机,在册)")
    roster.add_argument("--output", default="volunteers.toml",
                        help="the roster file to write (name it in the directory as volunteers_file)")
    roster.set_defaults(handler=_volunteers_import)

    tallies = commands.add_parser("tallies", help="print the tallies (JSON)")
    tallies.add_argument("--rebuild", action="store_true", help="recount from the stored submissions, month by month")
    tallies.add_argument("--from", dest="since", type=date.fromisoformat, help="first day to recount/print (YYYY-MM-DD)")
    tallies.add_argument("--to", dest="until", type=date.fromisoformat, help="last day to recount/print (YYYY-MM-DD)")
    tallies.set_defaults(handler=_tallies)

    qr = commands.add_parser("qr", help="print QR posters for the phone forms (A4 PDF, SVG or PNG)")
    qr.add_argument("--kind", choices=("hazard", "consultation", "enterprise"), default="hazard")
    qr.add_argument("--spot", help="one spot code from the directory")
    qr.add_argument("--community", help="one community (with --all-spots: each of its spots)")
    qr.add_argument("--all-spots", action="store_true", help="a poster for every spot in the directory")
    qr.add_argument("--csv", help="a CSV of spots: community,spot,name")
    qr.add_argument("--category", help="preselect this category (cat=)")
    qr.add_argument("--mode", help="form mode, e.g. patrol or report")
    qr.add_argument("--no-lock", dest="lock", action="store_false", help="let residents change the prefilled fields")
    qr.add_argument("--format", default="pdf", help="pdf, svg, png or several, comma-separated (default pdf)")
    qr.add_argument("--out", default="posters", help="output folder (default ./posters)")
    qr.add_argument("--base-url", help="public address in the QR code (default MINQING_BASE_URL)")
    qr.set_defaults(handler=_qr)

    notifications = commands.add_parser("notifications", help="list notifications (outbox); --failed: undelivered")
    notifications.add_argument("--failed", action="store_true",
                               help="only those that reached nobody after every channel and fallback")
    notifications.add_argument("--limit", type=int, default=50)
    notifications.set_defaults(handler=_notifications)

    scheduler = commands.add_parser("scheduler", help="enqueue the daily digest once a day (run one per deployment)")
    scheduler.set_defaults(handler=_scheduler)

    token = commands.add_parser("token", help="staff bearer tokens for the case API")
    token_commands = token.add_subparsers(metavar="ACTION")
    create = token_commands.add_parser("create", help="issue a token (printed once, kept only as a hash)")
    create.add_argument("--staff", required=True, metavar="ID", help="a staff id from the directory")
    create.add_argument("--expires-days", type=int, default=90, metavar="N")
    create.set_defaults(handler=_token_create)
    revoke = token_commands.add_parser("revoke", help="revoke a token by its id (or the token itself)")
    revoke.add_argument("token_id")
    revoke.set_defaults(handler=_token_revoke)
    token_list = token_commands.add_parser("list", help="list tokens (ids, staff, expiry; never secrets)")
    token_list.set_defaults(handler=_token_list)

    staff = commands.add_parser("staff", help="the staff console: sign-in links, revoking a member's access")
    staff_commands = staff.add_subparsers(metavar="ACTION")
    link = staff_commands.add_parser("link", help="print a one-time sign-in link and code (15 minutes, once)")
    link.add_argument("--staff", required=True, metavar="ID", help="a staff id from the directory")
    link.set_defaults(handler=_staff_link)
    cut_off = staff_commands.add_parser("revoke", help="end every session and token of a staff member")
    cut_off.add_argument("--staff", required=True, metavar="ID")
    cut_off.set_defaults(handler=_staff_revoke)

    cases = commands.add_parser("cases", help="the case workflow")
    cases_commands = cases.add_subparsers(metavar="ACTION")
    sweep = cases_commands.add_parser(
        "sweep", help="close unrated resolved cases, count overdue ones, remove unclaimed uploads")
    sweep.set_defaults(handler=_cases_sweep)

    report = commands.add_parser("report", help="the month's outcome report as PDF or XLSX")
    report.add_argument("--month", required=True, metavar="YYYY-MM")
    report.add_argument("--format", choices=("pdf", "xlsx"), default="pdf")
    report.add_argument("--output", metavar="FILE", help="default: minqing-report-YYYY-MM.FORMAT")
    report.set_defaults(handler=_report)

    dead = commands.add_parser("dead-letters", help="list messages that failed after every retry")
    dead.add_argument("--limit", type=int, default=50)
    dead.add_argument("--retry", type=int, metavar="ID", help="enqueue dead letter ID again")
    dead.set_defaults(handler=_dead_letters)
    return parser


def _engine(settings):
    """The database, migrated to the latest schema first: for the commands that write."""
    from minqing.store.engine import make_engine, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


def _reading(settings):
    """The database as it is, for a command that only reads: it never migrates (a look at a production
    database must not change its schema), and says so when the schema is not the latest."""
    from minqing.store.engine import HEAD, current_revision, make_engine

    engine = make_engine(settings.database_url)
    revision = current_revision(engine)
    if revision != HEAD:
        raise SystemExit(f"minqing: the database is at schema {revision or 'none'}, not {HEAD}; "
                         "run `minqing db upgrade` first")
    return engine


def _serve(settings, args) -> int:
    from minqing.directory import load_configured_directory
    from minqing.serve import serve

    load_configured_directory(settings)  # fail now, with the directory's own errors, not in every worker
    _engine(settings).dispose()
    with_worker = settings.embedded_queue if args.with_worker is None else args.with_worker
    return serve(settings, host=args.host, port=args.port, web_workers=args.web_workers, with_worker=with_worker)


def _worker(settings, args) -> int:
    _engine(settings).dispose()
    if args.processes > 1:
        return _worker_processes(args)
    from workers.main import run_worker

    return run_worker(settings, threads=args.threads)


def _worker_processes(args) -> int:
    """Several worker processes; a signal to this one reaches them all."""
    import signal
    import subprocess

    command = [sys.executable, "-m", "minqing", "worker", "--processes", "1"]
    if args.threads:
        command += ["--threads", str(args.threads)]
    children = [subprocess.Popen(command) for _ in range(args.processes)]

    def forward(signum, _frame):
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return max(child.wait() for child in children)


def _db_upgrade(settings, args) -> int:
    from minqing.store.engine import current_revision

    engine = _engine(settings)
    print(f"database at revision {current_revision(engine)}")
    return 0


def _directory_check(settings, args) -> int:
    from minqing.directory import DirectoryError, load_directory

    try:
        directory = load_directory(args.file)
    except DirectoryError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{args.file}: OK — {directory.street.name.zh}: {len(directory.communities)} communities, "
          f"{len(directory.staff)} staff, {len(directory.rules)} rules, "
          f"{len(directory.enterprise_assignments)} enterprise assignments")
    return 0


def _volunteers_import(settings, args) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from minqing.directory import load_configured_directory
    from minqing.roster import as_toml, check_rows, read_rows

    rows = read_rows(Path(args.file).read_bytes())
    kept, refused = [], []
    for _, volunteer, why in tqdm(check_rows(rows, load_configured_directory(settings)), total=len(rows),
                                  unit="row", file=sys.stderr, disable=len(rows) < 50):
        (kept.append(volunteer) if volunteer else refused.append(why))
    Path(args.output).write_text(as_toml(kept), encoding="utf-8")
    for why in refused:
        print(f"line {why.line}: refused: {why.reason}", file=sys.stderr)
    print(f"{args.output}: {len(kept)} volunteers written, {len(refused)} rows refused "
          f"({sum(v['active'] for v in kept)} active); restart the service to use it")
    return 1 if refused and not kept else 0


def _tallies(settings, args) -> int:
    from tqdm import tqdm

    from minqing.store import counts, recount

    engine = _engine(settings) if args.rebuild else _reading(settings)
    if args.rebuild:
        with engine.connect() as connection:
            periods = recount.periods(connection, args.since, args.until)
        counted = 0
        with tqdm(desc="recounting cases", unit=" cases", file=sys.stderr, disable=None) as bar:
            for since, until in periods:
                bar.set_postfix_str(f"{since:%Y-%m}", refresh=False)  # the month being recounted
                # One transaction a month: live counting waits only for the month being recounted.
                with engine.begin() as connection:
                    counted += counts.rebuild_tallies(connection, since, until, progress=bar.update)
        print(f"rebuilt tallies from {periods[0][0]} to {periods[-1][1]}: {counted} case replays", file=sys.stderr)
    with engine.connect() as connection:
        found = counts.summary(connection, since=args.since, until=args.until)
    print(json.dumps(found, ensure_ascii=False, indent=2))
    return 0


def _qr(settings, args) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from minqing.directory import load_configured_directory
    from minqing.posters import (
        FORMATS,
        PosterError,
        posters_for,
        posters_from_csv,
        qr_code,
        write_poster,
    )

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    if not formats or any(f not in FORMATS for f in formats):
        print(f"--format: choose from {', '.join(FORMATS)}", file=sys.stderr)
        return 2
    directory = load_configured_directory(settings)
    base_url = args.base_url or settings.base_url
    try:
        if args.csv:
            posters = posters_from_csv(Path(args.csv), directory, base_url, args.kind, lock=args.lock)
        else:
            posters = posters_for(directory, base_url, args.kind, community=args.community, spot=args.spot,
                                  every_spot=args.all_spots, category=args.category, mode=args.mode, lock=args.lock)
    except PosterError as error:
        print(error, file=sys.stderr)
        return 1
    out = Path(args.out)
    for poster in tqdm(posters, unit="poster", disable=len(posters) < 2, file=sys.stderr):
        for fmt in formats:
            path = write_poster(poster, out, fmt)
        code = qr_code(poster.url)
        names = f"{path.with_suffix('')}.{{{','.join(formats)}}}"
        tqdm.write(f"{names}\t{poster.url}\tQR version {code.version}-{code.error}", file=sys.stdout)
    return 0


def _dead_letters(settings, args) -> int:
    from minqing.store import dead_letters

    engine = _engine(settings) if args.retry is not None else _reading(settings)
    if args.retry is not None:
        from dramatiq import Message

        from workers.brokers import make_broker

        with engine.begin() as connection:
            found = dead_letters.waiting(connection, args.retry)
            if found is None:
                print(f"no dead letter {args.retry} waiting", file=sys.stderr)
                return 1
            fields = dict(found.message)
            fields["options"] = {k: v for k, v in fields.get("options", {}).items()
                                 if k not in ("retries", "traceback", "eta", "redis_message_id")}
            make_broker(settings).enqueue(Message(**fields))
            dead_letters.mark_dead_letter_retried(connection, args.retry)
        print(f"dead letter {args.retry} queued again")
        return 0
    with engine.connect() as connection:
        rows = dead_letters.list_dead_letters(connection, args.limit)
    if not rows:
        print("no dead letters")
    for row in rows:
        last_line = (row.error.strip().splitlines() or [""])[-1]
        print(f"{row.id}\t{row.failed_at:%Y-%m-%d %H:%M:%S}Z\t{row.actor}\t{row.message_id}\t{last_line}")
    return 0


def _notifications(settings, args) -> int:
    from minqing.store import outbox

    engine = _reading(settings)
    with engine.connect() as connection:
        rows = outbox.failed(connection, args.limit) if args.failed else outbox.recent(connection, args.limit)
    if not rows:
        print("no failed notifications" if args.failed else "no notifications")
    for row in rows:
        error = (row.last_error.strip().splitlines() or [""])[-1]
        print(f"{row.id}\t{row.created_at:%Y-%m-%d %H:%M:%S}Z\t{row.receipt}\t{row.event}\t{row.recipient}\t"
              f"{row.channel}\t{row.status}\t{row.attempts}\t{error}")
    return 0


def _scheduler(settings, args) -> int:
    from workers.scheduler import run_scheduler

    return run_scheduler(settings)

def _token_create(settings, args) -> int:
    from minqing.directory import load_configured_directory
    from minqing.store import tokens

    if args.staff not in load_configured_directory(settings).staff:
        print(f"no staff member {args.staff!r} in the directory", file=sys.stderr)
        return 1
    if args.expires_days < 1:
        print("--expires-days must be at least 1", file=sys.stderr)
        return 2
    with _engine(settings).begin() as connection:
        issued = tokens.create(connection, args.staff, days=args.expires_days)
    print(issued.token)
    print(f"token {issued.id} for {issued.staff_id}, expires {issued.expires_at:%Y-%m-%d %H:%M}Z; "
          "it is shown only this once", file=sys.stderr)
    return 0


def _token_revoke(settings, args) -> int:
    from minqing.store import tokens

    with _engine(settings).begin() as connection:
        revoked = tokens.revoke(connection, args.token_id)
    print(f"token {args.token_id} revoked" if revoked else f"no live token {args.token_id}",
          file=sys.stdout if revoked else sys.stderr)
    return 0 if revoked else 1


def _token_list(settings, args) -> int:
    from minqing.store import tokens

    with _reading(settings).connect() as connection:
        for row in tokens.listing(connection):
            state = "revoked" if row.revoked_at else "live"
            print(f"{row.id}\t{row.staff_id}\t{state}\texpires {row.expires_at:%Y-%m-%d %H:%M}Z")
    return 0


def _staff_link(settings, args) -> int:
    from minqing.directory import load_configured_directory
    from minqing.store import sessions

    if args.staff not in load_configured_directory(settings).staff:
        print(f"no staff member {args.staff!r} in the directory", file=sys.stderr)
        return 1
    with _engine(settings).begin() as connection:
        made = sessions.create_link(connection, args.staff)
    print(f"{settings.base_url}/staff/sign-in/link/{made.token}")
    print(f"code {made.code} for {args.staff}, valid once until {made.expires_at:%H:%M}Z; hand it to them "
          "directly (not in a group)", file=sys.stderr)
    return 0


def _staff_revoke(settings, args) -> int:
    from minqing.store import sessions, tokens

    with _engine(settings).begin() as connection:
        for row in tokens.listing(connection):
            if row.staff_id == args.staff:
                tokens.revoke(connection, row.id)
        # A revoked token row is what marks a member as cut off (tokens.staff_revoked); issuing a token lifts it.
        tokens.revoke(connection, tokens.create(connection, args.staff, days=1).id)
        ended = sessions.end_all(connection, args.staff)
    print(f"{args.staff}: {ended} session(s) ended, tokens revoked")
    return 0


def _cases_sweep(settings, args) -> int:
    from datetime import timedelta

    from minqing.attachments import make_store
    from workers.sweep import sweep

    keep = timedelta(seconds=settings.attachments_expiry_seconds + settings.attachments_grace_seconds)
    print(json.dumps(sweep(_engine(settings), auto_close_days=settings.auto_close_days,
                           store=make_store(settings), keep_uploads=keep,
                           remind_after_days=settings.feedback_reminder_days, enqueue=_sender(settings))))
    return 0


def _sender(settings):
    """Queue a message for a worker's actor by name, as a web process does (the sweep's reminders)."""
    from dramatiq import Message

    from minqing.receipts import random_uuid
    from workers.brokers import make_broker

    broker = make_broker(settings, middleware=[])

    def enqueue(actor_name: str, *args) -> None:
        broker.enqueue(Message(queue_name=settings.queue_name, actor_name=actor_name, args=args, kwargs={},
                               options={}, message_id=random_uuid()))
    return enqueue


def _report(settings, args) -> int:
    from pathlib import Path

    from minqing.directory import load_configured_directory
    from minqing.report import month_bounds, write_report

    try:
        month_bounds(args.month)
    except ValueError:
        print(f"--month must be YYYY-MM, not {args.month!r}", file=sys.stderr)
        return 2
    path = Path(args.output or f"minqing-report-{args.month}.{args.format}")
    if path.suffix.lower() not in (".pdf", ".xlsx"):
        path = path.with_suffix(f".{args.format}")
    write_report(_engine(settings), load_configured_directory(settings), args.month, path)
    print(path)
    return 0
