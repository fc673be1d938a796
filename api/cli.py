"""The `shebao` command line: serve, demo, projections, users, interest.

Global options (before the command) override the environment: --region (SHEBAO_REGION),
--data-dir (SHEBAO_DATA_DIR), --pg-dsn (SHEBAO_PG_DSN)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from domain.errors import DomainError
from domain.money import fen_to_yuan_text
from infra.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="shebao-ledger: event-sourced social-insurance ledger (社会保险经办).")
projections_app = typer.Typer(no_args_is_help=True, help="Read models: status and rebuild.")
users_app = typer.Typer(no_args_is_help=True, help="Staff users and their bearer tokens.")
interest_app = typer.Typer(no_args_is_help=True, help="Personal-account interest (记账利率).")
import_app = typer.Typer(no_args_is_help=True, help="External files: tax collection detail.")
store_app = typer.Typer(no_args_is_help=True, help="The event store's maintenance.")
app.add_typer(projections_app, name="projections")
app.add_typer(users_app, name="users")
app.add_typer(interest_app, name="interest")
app.add_typer(import_app, name="import")
app.add_typer(store_app, name="store")

console = Console(stderr=True)
out = Console()


@app.callback()
def main_options(
    ctx: typer.Context,
    region: Annotated[str | None, typer.Option(help="6-digit pooling region code.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Directory of the SQLite store.")] = None,
    pg_dsn: Annotated[str | None, typer.Option(help="PostgreSQL DSN; default SQLite.")] = None,
) -> None:
    ctx.obj = {"region_code": region, "data_dir": data_dir, "pg_dsn": pg_dsn}


def settings_of(ctx: typer.Context) -> Settings:
    try:
        return Settings.from_env(**(ctx.obj or {}))
    except ValueError as e:
        console.print(f"[red]settings: {e}[/red]")
        raise typer.Exit(2) from None


@contextmanager
def container_of(ctx: typer.Context):  # type: ignore[no-untyped-def]
    from infra.bootstrap import Container

    settings = settings_of(ctx)
    try:
        c = Container.open(settings)
    except Exception as e:  # shown to the user, with what to do
        console.print(f"[red]cannot open the store ({settings.describe()}): {e}[/red]")
        if settings.pg_dsn:
            console.print("Check that PostgreSQL runs and the DSN (user, password, database) is "
                          "right; e.g. psql \"$SHEBAO_PG_DSN\" -c 'select 1'.")
        raise typer.Exit(2) from None
    try:
        yield c
    except DomainError as e:
        console.print(f"[red]{e.code}: {e.message}[/red]")
        raise typer.Exit(1) from None
    finally:
        c.close()


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(
        min=1, max=64, help="HTTP worker processes; with more than one, this process only "
                            "follows the events into the read models.")] = 1,
) -> None:
    """Serve the HTTP API (/docs for OpenAPI) and follow new events into the read models."""
    import os

    import uvicorn

    from api.app import create_app, open_container

    settings = settings_of(ctx)
    console.print(f"store: {settings.describe()}; API on http://{host}:{port}/docs"
                  + (f" ({workers} worker processes)" if workers > 1 else ""))
    # No line per request: it would print the path, which holds the ID number of the person
    # read (the access log, 查询留痕, records reads masked), and it costs on every request.
    # http and loop stay "auto": httptools and uvloop, dependencies of the project.
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                    access_log=False)
        return
    # Several processes: one Python process runs on one core at a time (the GIL). This one
    # catches the read models up, then follows new events (projections, hash chain, risk
    # monitor) while the workers answer requests; a worker's read waits for this process.
    # The workers are new interpreters: they read the settings from the environment.
    os.environ["SHEBAO_REGION"] = settings.region_code
    os.environ["SHEBAO_DATA_DIR"] = str(settings.data_dir)
    if settings.pg_dsn:
        os.environ["SHEBAO_PG_DSN"] = settings.pg_dsn
    container = open_container(settings, follow=True)
    try:
        uvicorn.run("api.app:worker_app", factory=True, workers=workers, host=host, port=port,
                    log_level="info", access_log=False)
    finally:
        container.close()


@app.command()
def demo(
    ctx: typer.Context,
    persons: Annotated[int, typer.Option(min=1, max=2_000_000, help="Insured persons.")] = 10_000,
    months: Annotated[int, typer.Option(min=1, max=120, help="Months from 2023-01.")] = 24,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same region.")] = 20231,
    if_empty: Annotated[bool, typer.Option("--if-empty",
                                           help="Do nothing if the store has events.")] = False,
) -> None:
    """Generate a deterministic demo region and load it (registrations, 24 months of
    contributions through the bulk path, reversals, interest), then issue demo tokens."""
    from infra.demo import load_demo

    with container_of(ctx) as c:
        head = c.store.max_position()
        if head:
            if if_empty:
                console.print(f"store already holds {head} events ({c.settings.describe()}); "
                              "demo not loaded again")
                return
            console.print(f"[red]the store already holds {head} events[/red]; use another "
                          "--data-dir/--region, or delete it (scripts/run --fresh)")
            raise typer.Exit(1)
        started = time.perf_counter()
        with progress_bar() as bar:
            tasks: dict[str, int] = {}

            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            summary = load_demo(c, persons, months, seed, progress=report)
        seconds = time.perf_counter() - started
        tokens = issue_demo_tokens(c)
        out.print(f"demo region {c.settings.region_code} loaded in {seconds:.1f} s: {summary}")
        out.print(f"tokens written to {tokens} (demo only; the admin token is below)")
        out.print(tokens.read_text(encoding="utf-8").splitlines()[0])


def issue_demo_tokens(c: object) -> Path:
    from infra.bootstrap import Container

    assert isinstance(c, Container)
    path = c.settings.region_dir / "demo-tokens.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for username, roles in (("admin", ["admin"]), ("teller1", ["teller"]),
                            ("reviewer1", ["reviewer"]), ("director1", ["director"]),
                            ("auditor1", ["auditor"]), ("reconciler1", ["reconciler"])):
        _user, token = c.staff.add_user(username, roles)
        lines.append(f"{username}\t{','.join(roles)}\t{token}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@projections_app.command("status")
def projections_status(ctx: typer.Context) -> None:
    """Position of each read model against the log head."""
    with container_of(ctx) as c:
        head = c.store.max_position()
        table = Table("projection", "position", "behind")
        for name, position in c.runner.positions().items():
            table.add_row(name, str(position), str(head - position))
        monitored = c.risk_monitor.position()
        table.add_row("(risk monitor)", str(monitored), str(head - monitored))
        out.print(table)


@projections_app.command("catch-up")
def projections_catch_up(ctx: typer.Context) -> None:
    """Apply events the read models have not seen yet."""
    with container_of(ctx) as c:
        run_catch_up(c, rebuild_names=None)


@projections_app.command("rebuild")
def projections_rebuild(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Projections (default: all).")] = None,
) -> None:
    """Drop read models and rebuild them from the first event."""
    with container_of(ctx) as c:
        check_projection_names(c, names)
        run_catch_up(c, rebuild_names=names or [])


@projections_app.command("cluster")
def projections_cluster(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Projections (default: all).")] = None,
) -> None:
    """PostgreSQL: rewrite the read models read person by person (person_facts,
    contribution_history, person_account_entries) in person order, so that a statement reads a
    few pages instead of one per row. Read models stop following meanwhile (minutes on a large
    region): run it in a quiet hour, after a load or a rebuild. Nothing to do on SQLite."""
    with container_of(ctx) as c:
        check_projection_names(c, names)
        if c.views.dialect != "postgres":
            out.print("SQLite: nothing to cluster (the read models are read from the local "
                      "file through the operating system's cache)")
            return
        with console.status("clustering …") as status:
            def done(table: str, seconds: float) -> None:
                out.print(f"{table}: rewritten in person order ({seconds:.1f} s)")
                status.update(f"clustering after {table} …")

            rewritten = c.runner.cluster(names or [], done=done)
        out.print(f"{len(rewritten)} table(s) clustered")


@store_app.command("vacuum")
def store_vacuum(ctx: typer.Context) -> None:
    """PostgreSQL: VACUUM (FREEZE, ANALYZE) the events table, which autovacuum never finishes
    (every writer's table lock cancels it). Writers wait until it is done — minutes on a large
    region: run it in a quiet hour, e.g. weekly, before PostgreSQL's own anti-wraparound
    vacuum stops the writers at a time of its choosing. Nothing to do on SQLite."""
    import time

    with container_of(ctx) as c:
        if not c.store.is_postgres:
            out.print("SQLite: nothing to vacuum (deleted space is reused; nothing needs "
                      "freezing)")
            return
        started = time.perf_counter()
        with progress_bar() as bar:
            task = bar.add_task("vacuum", total=None)

            def report(scanned: int, blocks: int) -> None:
                bar.update(task, completed=scanned, total=blocks)

            c.store.vacuum_events(report)
        out.print(f"{c.store.events_table}: vacuumed, frozen and analysed in "
                  f"{time.perf_counter() - started:.1f} s")


def check_projection_names(c: object, names: list[str] | None) -> None:
    """Exit 2 naming the unknown projections and the known ones."""
    from infra.bootstrap import Container

    assert isinstance(c, Container)
    try:
        c.runner.selected(names or [])
    except ValueError as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from None


def run_catch_up(c: object, rebuild_names: list[str] | None) -> None:
    from infra.bootstrap import Container

    assert isinstance(c, Container)
    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("rebuild" if rebuild_names is not None else "catch-up", total=None)

        def report(position: int, head: int) -> None:
            bar.update(task, completed=position, total=head)

        if rebuild_names is not None:
            head = c.runner.rebuild(rebuild_names, progress=report)
        else:
            head = c.runner.catch_up(progress=report)
    seconds = time.perf_counter() - started
    out.print(f"read models at position {head} ({seconds:.1f} s)")


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name, e.g. teller07.")],
    role: Annotated[list[str], typer.Option("--role", help="teller, reviewer, director, "
                                            "auditor, reconciler, insured, admin; repeatable")],
) -> None:
    """Add a staff user (or re-issue) and print a new bearer token, shown only once."""
    with container_of(ctx) as c:
        _user, token = c.staff.add_user(username, role)
        console.print(f"user {username} ({', '.join(role)}): token follows; it is stored "
                      "only as a hash, keep it now")
        out.print(token)


@interest_app.command("credit")
def interest_credit(
    ctx: typer.Context,
    year: Annotated[int, typer.Argument(help="The year whose interest to credit.")],
) -> None:
    """Credit a year's interest to every personal pension account (idempotent)."""
    from infra.interest_service import credit_interest

    with container_of(ctx) as c, progress_bar() as bar:
        task = bar.add_task(f"interest {year}", total=None)
        run = credit_interest(c.store, c.policy, c.runner, c.queries, year,
                              progress=lambda n: bar.advance(task, n))
    out.print(f"{year}: rate {run.rate}, credited {run.credited}, already credited "
              f"{run.skipped}, moved away in the year (no interest here) {run.moved_away}, "
              f"interest {run.interest_fen} fen, position {run.position}")


pensions_app = typer.Typer(no_args_is_help=True, help="Pension payments (养老金发放).")
app.add_typer(pensions_app, name="pensions")


@pensions_app.command("pay")
def pensions_pay(
    ctx: typer.Context,
    period: Annotated[str, typer.Argument(help="The month to pay, YYYY-MM (this month or "
                                               "an earlier one).")],
    acting: Annotated[str | None, typer.Option(
        "--as", help="The staff user running it (recorded in the events); an admin.")] = None,
) -> None:
    """Pay every pension due for a month once (a second run pays nobody); not for months after
    the month of a recorded death."""
    from infra.pension_payments import pay_pensions

    with container_of(ctx) as c:
        username = _permitted_user(c, acting, "pay_pensions") if acting else None
        with progress_bar() as bar:
            task = bar.add_task(f"pensions {period}", total=None)
            run = pay_pensions(c, period, actor=username,
                               progress=lambda done, total: bar.update(task, completed=done,
                                                                       total=total))
    out.print(f"{run.period}: paid {run.paid} persons {fen_to_yuan_text(run.amount_fen)} yuan "
              f"(basic {fen_to_yuan_text(run.basic_fen)}, transitional "
              f"{fen_to_yuan_text(run.transitional_fen)}, account "
              f"{fen_to_yuan_text(run.account_fen)} of which from the pooled fund "
              f"{fen_to_yuan_text(run.account_from_pool_fen)}); already paid "
              f"{run.already_paid}; skipped deceased {run.skipped_deceased}; skipped "
              f"suspended {run.skipped_suspended}; back paid {run.back_paid} months "
              f"{fen_to_yuan_text(run.back_pay_fen)} yuan; position {run.position}")


@pensions_app.command("certify")
def pensions_certify(
    ctx: typer.Context,
    id_number: Annotated[str, typer.Argument(help="The pensioner's ID number.")],
    method: Annotated[str, typer.Option(
        help="认证方式: data_match (数据比对) or self_service (自助认证).")],
    on: Annotated[str, typer.Option("--on", help="The day certified, YYYY-MM-DD.")],
    acting: Annotated[str, typer.Option("--as", help="The staff user recording it.")],
    source: Annotated[str | None, typer.Option(
        help="civil_affairs, public_security, hospital, transport (data_match); "
             "face_recognition (self_service, the default).")] = None,
) -> None:
    """待遇资格认证: record that a pensioner was certified on a day (the same day again records
    nothing). A late one resumes payment from the next month, with back pay."""
    from infra.certification_service import certify

    with container_of(ctx) as c:
        username = _permitted_user(c, acting, "certify_pensioners")
        with c.ledger.acting(username):
            done = certify(c, id_number, method, source, on)
    r = done.result
    out.print(f"{r['person_id']} certified on {r['certified_on']} by {r['method']} "
              f"({r['source']})" + ("; already recorded" if r["already_recorded"] else
                                   f"; position {done.position}"))


@pensions_app.command("certification-status")
def pensions_certification_status(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="The day to judge on, YYYY-MM-DD (default today).")] = None,
) -> None:
    """Pensioners whose certification is overdue (payment suspended, 暂停), by deadline."""
    from datetime import date

    from infra.certification_service import overdue
    from infra.ledger_service import parse_day

    with container_of(ctx) as c:
        day = date.fromisoformat(parse_day(as_of, "as_of")) if as_of else date.today()
        items, total = overdue(c, day)
    out.print(f"{total} pensioners overdue on {day.isoformat()}")
    for i in items:
        out.print(f"  {i.person_id} retired {i.retirement_date}, last certified "
                  f"{i.last_certified_on or 'never'}, due by {i.deadline}, suspended from "
                  f"{i.suspended_from}")


@pensions_app.command("adjust")
def pensions_adjust(
    ctx: typer.Context,
    year: Annotated[int, typer.Argument(help="The year to adjust (养老金调整), e.g. 2025.")],
    acting: Annotated[str | None, typer.Option(
        "--as", help="The staff user running it (recorded in the events); an admin.")] = None,
) -> None:
    """Adjust every pension for a year once, by the province's rule (pension_adjustment.toml),
    paying the increase for months already paid as arrears (a second run adjusts nobody)."""
    from infra.pension_adjustments import adjust_pensions

    with container_of(ctx) as c:
        username = _permitted_user(c, acting, "adjust_pensions") if acting else None
        with progress_bar() as bar:
            task = bar.add_task(f"adjustment {year}", total=None)
            run = adjust_pensions(c, year, actor=username,
                                  progress=lambda done, total: bar.update(
                                      task, completed=done, total=total))
    out.print(f"{run.year} (from {run.effective_period}, rule {run.province_code}/{run.year} "
              f"{run.rule_source}): adjusted {run.adjusted} persons, monthly increase "
              f"{fen_to_yuan_text(run.monthly_increase_fen)} yuan (average "
              f"{fen_to_yuan_text(run.average_increase_fen)}); arrears {run.arrears_months} "
              f"months {fen_to_yuan_text(run.arrears_fen)} yuan; already adjusted "
              f"{run.already_adjusted}; skipped deceased {run.skipped_deceased}; position "
              f"{run.position}")


@import_app.command("collections")
def import_collections_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV (UTF-8 or GBK) or XLSX collection detail.")],
    encoding: Annotated[str | None, typer.Option(help="CSV encoding, e.g. gbk; default: "
                                                 "detected")] = None,
    rejects: Annotated[Path | None, typer.Option(help="Where to write rejected lines (CSV); "
                                                 "default: <file>.rejects.csv beside it")] = None,
) -> None:
    """Import the tax bureau's collection detail (实收明细): post matched months, hold the rest
    in suspense (暂收), write rejected lines to a CSV that can be corrected and imported again.
    The same file twice changes nothing."""
    from infra.collection_import import import_collections

    rejects_path = rejects or file.with_name(file.stem + ".rejects.csv")
    with container_of(ctx) as c, progress_bar() as bar:
        tasks: dict[str, int] = {}

        def report(stage: str, lines: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=None)
            bar.advance(tasks[stage], lines)

        summary = import_collections(c, file, encoding, rejects_path, "cli", report)
    if summary.already_imported:
        out.print(f"{file.name} was imported before (sha256 {summary.sha256[:12]}…): nothing "
                  "changed")
    table = Table("outcome", "lines", "amount (yuan)")
    for outcome in ("posted", "duplicate", "suspense", "rejected"):
        table.add_row(outcome, str(summary.counts[outcome]),
                      fen_to_yuan_text(summary.amounts_fen[outcome]))
    out.print(table)
    out.print(f"{summary.lines} lines; position {summary.position}")
    for stage, seconds in summary.stage_seconds.items():
        rate = summary.lines / seconds if seconds else 0.0
        out.print(f"  {stage:<5} {seconds:8.1f} s  {rate:10,.0f} lines/s")
    if summary.suspense_reasons:
        out.print("suspense reasons: " + ", ".join(
            f"{code} {n}" for code, n in sorted(summary.suspense_reasons.items())))
    if summary.rejects_file:
        out.print(f"rejected lines written to {summary.rejects_file}: correct them there and "
                  "import that file")


@import_app.command("report")
def import_report_command(
    ctx: typer.Context,
    batch: Annotated[str, typer.Argument(help="Batch id, or the sha256 of the imported file.")],
    csv_path: Annotated[Path | None, typer.Option("--csv", dir_okay=False,
                                                  help="Write the lines as CSV here.")] = None,
    xlsx_path: Annotated[Path | None, typer.Option("--xlsx", dir_okay=False,
                                                   help="Write summary and lines as XLSX "
                                                        "here.")] = None,
) -> None:
    """The reconciliation report (对账报告) of an imported file: the summary, the same totals
    from the ledger, totals per employer; --csv/--xlsx write every line with a link to its
    event."""
    from infra.reconciliation_report import OUTCOMES, batch_report, write_csv, write_xlsx

    with container_of(ctx) as c:
        c.runner.catch_up()
        report = batch_report(c.views, batch, items_limit=0)
        info, summary, ledger = report["batch"], report["summary"] or {}, report["ledger"]
        out.print(f"{info['file_name']} (sha256 {info['sha256'][:12]}…, batch "
                  f"{info['batch_id']}), imported by {info['started_by']} at "
                  f"{info['started_at']}" + ("" if info["completed"] else ": NOT COMPLETED"))
        table = Table("outcome", "lines", "amount (yuan)", "ledger lines", "ledger (yuan)")
        for outcome in OUTCOMES:
            in_ledger = outcome in ledger["counts"]
            table.add_row(outcome, str(summary.get("counts", {}).get(outcome, 0)),
                          fen_to_yuan_text(summary.get("amounts_fen", {}).get(outcome, 0)),
                          str(ledger["counts"][outcome]) if in_ledger else "",
                          fen_to_yuan_text(ledger["amounts_fen"][outcome]) if in_ledger else "")
        out.print(table)
        if summary.get("suspense_reasons"):
            out.print("suspense reasons: " + ", ".join(
                f"{code} {n}" for code, n in sorted(summary["suspense_reasons"].items())))
        out.print(f"{len(report['by_employer'])} employers; {report['items_total']} lines in "
                  "the ledger")
        for difference in report["differences"]:
            out.print(f"[yellow]difference: {difference}[/yellow]")
        for path, writer in ((csv_path, write_csv), (xlsx_path, write_xlsx)):
            if path is not None:
                rows = writer(batch_report(c.views, batch, items_limit=None), path)
                out.print(f"{rows} lines written to {path}")


# -- suspense (暂收/挂账) ----------------------------------------------------------------------

suspense_app = typer.Typer(no_args_is_help=True,
                           help="Suspense items: list, assign to a person-month, refund.")
app.add_typer(suspense_app, name="suspense")
SUSPENSE_LIST_MAX = 1000


@suspense_app.command("list")
def suspense_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="held, assigned or refunded")] = None,
    batch: Annotated[str | None, typer.Option(help="Only items of this import batch.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=SUSPENSE_LIST_MAX)] = 100,
) -> None:
    """Suspense items in the order they were held (ID numbers masked)."""
    from domain.identity import mask_id_number
    from domain.suspense import STATUSES

    if status is not None and status not in STATUSES:
        console.print(f"[red]--status must be one of {', '.join(STATUSES)}[/red]")
        raise typer.Exit(2)
    with container_of(ctx) as c:
        c.runner.catch_up()
        table = Table("serial", "status", "reason", "insurance", "period", "ID number",
                      "amount (yuan)", "decided by")
        for i in c.queries.suspense_items(status, batch, limit):
            table.add_row(i["serial_no"], i["status"], i["reason_code"], i["insurance"] or "",
                          i["period"] or "", mask_id_number(i["id_number"] or ""),
                          fen_to_yuan_text(i["amount_fen"]), i["decided_by"] or "")
        out.print(table)


@suspense_app.command("assign")
def suspense_assign(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="Tax serial number of the held line.")],
    id_number: Annotated[str, typer.Option("--id-number", help="The person it belongs to.")],
    period: Annotated[str, typer.Option(help="The month it belongs to, YYYY-MM.")],
    reason: Annotated[str, typer.Option(help="Why (recorded with the decision).")],
    employer_code: Annotated[str | None, typer.Option(
        "--employer-code", help="Default: the credit code on the line.")] = None,
) -> None:
    """Assign a suspense item to a person and period: its money is posted there."""
    from infra.suspense_service import assign_suspense

    with container_of(ctx) as c:
        done = assign_suspense(c, serial, id_number, period, reason, "cli", employer_code)
    r = done.result
    out.print(f"{r['serial_no']}: {r['status']} to {r['period']} (month {r['month_id']}), "
              f"{fen_to_yuan_text(r['amount_fen'])} yuan; position {done.position}")


@suspense_app.command("refund")
def suspense_refund(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="Tax serial number of the held line.")],
    reason: Annotated[str, typer.Option(help="Why (recorded with the decision).")],
    reference: Annotated[str, typer.Option(help="The tax bureau's refund voucher number.")],
) -> None:
    """Refund a suspense item through the tax bureau (suspense → bank:payout)."""
    from infra.suspense_service import refund_suspense

    with container_of(ctx) as c:
        done = refund_suspense(c, serial, reason, reference, "cli")
    r = done.result
    out.print(f"{r['serial_no']}: {r['status']} ({r['reference']}), "
              f"{fen_to_yuan_text(r['amount_fen'])} yuan; position {done.position}")


# -- finance special-account reconciliation (财政专户对账) -------------------------------------

reconcile_app = typer.Typer(no_args_is_help=True,
                            help="Reconciliations: the finance special account (财政专户).")
app.add_typer(reconcile_app, name="reconcile")


@import_app.command("statement")
def import_statement_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV (UTF-8 or GBK) or XLSX statement of the "
                                              "finance special account.")],
    encoding: Annotated[str | None, typer.Option(help="CSV encoding, e.g. gbk; default: "
                                                 "detected")] = None,
    rejects: Annotated[Path | None, typer.Option(help="Where to write rejected lines (CSV); "
                                                 "default: <file>.rejects.csv beside it")] = None,
) -> None:
    """Import the finance special account's statement (财政专户对账单): recorded as it is and
    compared with the ledger (`shebao reconcile finance`), never posted. The same file twice
    changes nothing."""
    from infra.finance_statement_import import import_statement

    rejects_path = rejects or file.with_name(file.stem + ".rejects.csv")
    with container_of(ctx) as c:
        summary = import_statement(c, file, encoding, rejects_path, "cli")
    if summary.already_imported:
        out.print(f"{file.name} was imported before (sha256 {summary.sha256[:12]}…): nothing "
                  "changed")
    table = Table("insurance", "receipts (yuan)", "payments (yuan)")
    for insurance, per in sorted(summary.by_insurance.items()):
        table.add_row(insurance, fen_to_yuan_text(per["receipt"]),
                      fen_to_yuan_text(per["payment"]))
    out.print(table)
    out.print(f"{summary.lines} lines: {summary.imported} imported, {summary.rejected} rejected;"
              f" {summary.first_date or '-'} to {summary.last_date or '-'}; statement "
              f"{summary.statement_id}, position {summary.position}")
    if summary.rejected_codes:
        out.print("rejected: " + ", ".join(
            f"{code} {n}" for code, n in sorted(summary.rejected_codes.items())))
    if summary.rejects_file:
        out.print(f"rejected lines written to {summary.rejects_file}: correct them there and "
                  "import that file")


@import_app.command("benefits")
def import_benefits_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV (UTF-8 or GBK) or XLSX payment details of "
                                              "benefits of 210, 310, 410 or 510.")],
    encoding: Annotated[str | None, typer.Option(help="CSV encoding, e.g. gbk; default: "
                                                 "detected")] = None,
    errors: Annotated[Path | None, typer.Option(help="Where to write the faulty lines of a "
                                                "refused file (CSV); default: "
                                                "<file>.errors.csv beside it")] = None,
) -> None:
    """Import benefit payment details (待遇支付明细: 失业、医疗、工伤、生育) that other systems
    paid: every line recorded, or none when a line is faulty. Lines already recorded (the same
    file again) change nothing."""
    from infra.benefit_payment_import import import_benefit_payments

    errors_path = errors or file.with_name(file.stem + ".errors.csv")
    with container_of(ctx) as c, progress_bar() as bar:
        task = bar.add_task("benefits", total=None)
        summary = import_benefit_payments(
            c, file, encoding, errors_path, "cli",
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    if summary.already_imported:
        out.print(f"{file.name}: every line was recorded before (sha256 "
                  f"{summary.sha256[:12]}…): nothing changed")
    table = Table("insurance", "payments", "amount (yuan)")
    for insurance, per in sorted(summary.by_insurance.items()):
        table.add_row(insurance, str(per["payments"]), fen_to_yuan_text(per["amount_fen"]))
    out.print(table)
    out.print(f"{summary.lines} lines: {summary.paid} recorded "
              f"{fen_to_yuan_text(summary.amount_fen)} yuan, {summary.already_paid} already "
              f"recorded; paid {summary.first_paid_on or '-'} to {summary.last_paid_on or '-'};"
              f" position {summary.position}")


@reconcile_app.command("finance")
def reconcile_finance_command(
    ctx: typer.Context,
    start: Annotated[str | None, typer.Option("--from", help="First month YYYY-MM.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last month YYYY-MM.")] = None,
    day: Annotated[bool, typer.Option("--day", help="Per day instead of per month.")] = False,
    statement: Annotated[str | None, typer.Option(help="One statement (id or sha256) over "
                                                  "its months; default: all.")] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", dir_okay=False,
                                                  help="Write the rows as CSV here.")] = None,
    xlsx_path: Annotated[Path | None, typer.Option("--xlsx", dir_okay=False,
                                                   help="Write the report as XLSX here.")] = None,
) -> None:
    """The finance special account's statements against the ledger's fund movements, per
    month (or day) and insurance; differences are statement − ledger. Exit status 3 when
    there is a difference."""
    from infra.finance_reconciliation import reconcile, write_csv, write_xlsx

    with container_of(ctx) as c:
        c.runner.catch_up()
        report = reconcile(c.views, statement, start, end, "day" if day else "month")
    table = Table("period", "insurance", "statement in", "statement out", "ledger in",
                  "ledger out", "difference in", "difference out", "status")
    for r in report["rows"]:
        table.add_row(r["period"], r["insurance"] or "?",
                      *(fen_to_yuan_text(r[k]) for k in (
                          "statement_receipts_fen", "statement_payments_fen",
                          "ledger_receipts_fen", "ledger_payments_fen",
                          "receipts_difference_fen", "payments_difference_fen")),
                      r["status"])
    out.print(table)
    out.print(f"{len(report['rows'])} rows, {report['differences']} with a difference "
              f"({report['from'] or 'start'} to {report['to'] or 'end'}): {report['status']}")
    for path, writer in ((csv_path, write_csv), (xlsx_path, write_xlsx)):
        if path is not None:
            writer(report, path)
            out.print(f"written to {path}")
    if report["status"] != "ok":
        raise typer.Exit(3)


@reconcile_app.command("three-way")
def reconcile_three_way_command(
    ctx: typer.Context,
    period: Annotated[str, typer.Argument(help="Contribution period (费款所属期), YYYY-MM.")],
    received_month: Annotated[str | None, typer.Option(
        "--received-month", help="Month of special-account receipts; default: the month "
                                 "the period falls due in.")] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", dir_okay=False,
                                                  help="Write the rows as CSV here.")] = None,
) -> None:
    """三方对账: assessed (应收) = collected (实收) = received into the special account, per
    insurance. Exit status 3 when there is a difference."""
    from infra.three_way import three_way, write_csv

    with container_of(ctx) as c:
        report = three_way(c, period, received_month)
    table = Table("insurance", "assessed", "collected", "of which held", "received",
                  "assessed − collected", "collected − received", "status")
    for r in report["rows"]:
        table.add_row(r["insurance"], *(fen_to_yuan_text(r[k]) for k in (
            "assessed_fen", "collected_fen", "suspense_fen", "received_fen",
            "assessed_minus_collected_fen", "collected_minus_received_fen")), r["status"])
    out.print(table)
    out.print(f"{report['period']} (received in {report['received_month']}): "
              f"{report['differences']} insurances with a difference: {report['status']}")
    if csv_path is not None:
        write_csv(report, csv_path)
        out.print(f"written to {csv_path}")
    if report["status"] != "ok":
        raise typer.Exit(3)


@app.command("arrears")
def arrears_command(
    ctx: typer.Context,
    period: Annotated[str, typer.Argument(help="YYYY-MM")],
    as_of: Annotated[str | None, typer.Option(help="late fee as of YYYY-MM-DD (default: "
                                              "today)")] = None,
) -> None:
    """Arrears (欠费) per employer: months assessed (employed, base declared) but not posted
    after their due date, with the late fee (滞纳金, employer-borne)."""
    from datetime import date

    from infra.arrears import arrears

    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        console.print(f"[red]--as-of {as_of!r} is not a date written YYYY-MM-DD[/red]")
        raise typer.Exit(2) from None
    with container_of(ctx) as c:
        report, items = arrears(c, period, day)
    summary = report.as_dict()
    if not report.due:
        out.print(f"{period} falls due on {summary['due_date']}: nothing is late as of {day} "
                  f"({len(items)} assessed months not posted yet)")
        return
    table = Table("employer", "persons", "arrears (yuan)", "days late", "late fee (yuan)")
    for e in summary["employers"]:
        table.add_row(e["employer_code"], str(e["persons"]), fen_to_yuan_text(e["arrears_fen"]),
                      str(e["days_late"]), fen_to_yuan_text(e["late_fee_fen"]))
    out.print(table)
    out.print(f"{period}: due {summary['due_date']}, as of {day}: arrears "
              f"{fen_to_yuan_text(summary['arrears_fen'])} yuan, late fees "
              f"{fen_to_yuan_text(summary['late_fee_fen'])} yuan")


# -- back-payments (补缴) ----------------------------------------------------------------------

backpay_app = typer.Typer(no_args_is_help=True,
                          help="Back-payments (补缴): assess, record the collection, cancel, show.")
app.add_typer(backpay_app, name="backpay")


def _print_backpay(r: dict[str, Any], position: int | None = None) -> None:
    table = Table("period", "due", "days late", "contributions (yuan)", "account (yuan)",
                  "late fee (yuan)")
    for m in r["months"]:
        table.add_row(m["period"], m["due_date"], str(m["days_late"]),
                      fen_to_yuan_text(m["total_fen"]), fen_to_yuan_text(m["pension_account_fen"]),
                      fen_to_yuan_text(m["late_fee_fen"]))
    out.print(table)
    for y in r["interest_years"]:
        out.print(f"interest {y['year']} at {y['rate']}: +{fen_to_yuan_text(y['delta_fen'])} "
                  "yuan")
    out.print(f"back-payment {r['backpay_id']} ({r['status']}), pay by {r['pay_by']}: principal "
              f"{fen_to_yuan_text(r['principal_fen'])} + late fee "
              f"{fen_to_yuan_text(r['late_fee_fen'])} + interest "
              f"{fen_to_yuan_text(r['interest_fen'])} = {fen_to_yuan_text(r['total_fen'])} yuan"
              + (f"; position {position}" if position is not None else ""))


@backpay_app.command("assess")
def backpay_assess(
    ctx: typer.Context,
    id_number: Annotated[str, typer.Option("--id-number", help="The person.")],
    employer_code: Annotated[str, typer.Option("--employer-code", help="The employer owing.")],
    from_period: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
    to_period: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")],
    pay_by: Annotated[str, typer.Option("--pay-by", help="Payment deadline, YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option(help="Ground and evidence (recorded).")],
    base_fen: Annotated[int | None, typer.Option(
        "--base-fen", help="Base of every month in fen; default: each year's declared base.")
    ] = None,
    insurance: Annotated[list[str] | None, typer.Option(
        help="Insurance code (repeat); default: the five employee insurances.")] = None,
) -> None:
    """补缴核定: the months at their own rates, late fees to --pay-by, interest of the years
    credited already. Prints the notice's figures."""
    from infra.backpay_service import assess_backpay

    with container_of(ctx) as c:
        done = assess_backpay(c, id_number, employer_code, from_period, to_period, pay_by,
                              reason, "cli", base_fen, insurance)
    _print_backpay(done.result, done.position)


@backpay_app.command("collect")
def backpay_collect(
    ctx: typer.Context,
    backpay_id: Annotated[str, typer.Argument(help="The assessment's id.")],
    collected_on: Annotated[str, typer.Option("--collected-on", help="YYYY-MM-DD.")],
    tax_serial: Annotated[str, typer.Option("--tax-serial", help="Tax bureau serial number.")],
    amount_fen: Annotated[int, typer.Option("--amount-fen", help="Collected total in fen, "
                                            "including lines held in suspense.")],
    from_suspense: Annotated[list[str] | None, typer.Option(
        "--from-suspense", help="Serial of a suspense item held for this back-payment "
                                "(backpay_open); repeat.")] = None,
) -> None:
    """Record the tax bureau's collection: posts the months, late fee and interest, and
    recomputes the credited years' interest, in one transaction."""
    from infra.backpay_service import collect_backpay

    with container_of(ctx) as c:
        done = collect_backpay(c, backpay_id, collected_on, tax_serial, amount_fen, "cli",
                               from_suspense)
    _print_backpay(done.result, done.position)


@backpay_app.command("cancel")
def backpay_cancel(
    ctx: typer.Context,
    backpay_id: Annotated[str, typer.Argument(help="The assessment's id.")],
    reason: Annotated[str, typer.Option(help="Why (recorded).")],
) -> None:
    """Cancel an assessment that was not collected."""
    from infra.backpay_service import cancel_backpay

    with container_of(ctx) as c:
        done = cancel_backpay(c, backpay_id, reason, "cli")
    _print_backpay(done.result, done.position)


@backpay_app.command("show")
def backpay_show(
    ctx: typer.Context,
    backpay_id: Annotated[str, typer.Argument(help="The assessment's id.")],
) -> None:
    """One assessment as recorded."""
    from infra.backpay_service import backpay_result, get_backpay

    with container_of(ctx) as c:
        _print_backpay(backpay_result(get_backpay(c, backpay_id)))


# -- counter business (综合柜员制) ---------------------------------------------------------------

cases_app = typer.Typer(no_args_is_help=True, help="Counter business: cases, sign-offs, "
                        "materials, queues, the authorisation register.")
app.add_typer(cases_app, name="cases")
As = Annotated[str, typer.Option("--as", help="The staff user acting (shebao users add).")]


def _case_actor(c: Any, username: str) -> Any:
    from infra.case_service import Actor

    principal = c.staff.principal(username)
    return Actor(principal.username, list(principal.roles))


def _print_case(r: dict[str, Any], position: int | None = None) -> None:
    step = f", next: {r['next_step']} ({'/'.join(r['next_roles'])})" if r["next_step"] else ""
    missing = (f", missing materials: {', '.join(r['missing_materials'])}"
               if r["missing_materials"] else "")
    out.print(f"case {r['case_id']} {r['code']} (level {r['risk_level']}): {r['status']}, "
              f"deadline {r['deadline']}{step}{missing}"
              + (f"; position {position}" if position is not None else ""))


@cases_app.command("catalogue")
def cases_catalogue() -> None:
    """The business items and bundles."""
    from infra.catalogue_loader import default_catalogue

    catalogue = default_catalogue()
    table = Table("code", "name", "category", "level", "deadline (working days)", "steps",
                  "available")
    for it in catalogue.items.values():
        table.add_row(it.code, it.name_zh, it.category, str(it.risk_level),
                      str(it.deadline_working_days), " → ".join(s.name_zh for s in it.steps),
                      "yes" if it.available else "no")
    out.print(table)
    for b in catalogue.bundles.values():
        out.print(f"bundle {b.code} ({b.name_zh}): {' + '.join(b.items)}")


@cases_app.command("authorise")
def cases_authorise(
    ctx: typer.Context, username: Annotated[str, typer.Argument(help="The teller.")],
    reason: Annotated[str, typer.Option(help="The approved permission request (recorded).")],
    grant: Annotated[list[str] | None, typer.Option(help="Item code to grant; repeat.")] = None,
    revoke: Annotated[list[str] | None, typer.Option(help="Item code to revoke; repeat.")] = None,
    decided_by: Annotated[str, typer.Option("--decided-by", help="Who approved it.")] = "cli",
) -> None:
    """Change the items a teller may accept (the authorisation register)."""
    from infra.case_service import CaseService

    with container_of(ctx) as c:
        done = CaseService(c).change_authorisation(username, grant or [], revoke or [],
                                                   decided_by, reason)
    out.print(f"{username} may accept: {', '.join(done.result['item_codes']) or 'nothing'}")


@cases_app.command("open")
def cases_open(
    ctx: typer.Context, code: Annotated[str, typer.Argument(help="Item or bundle code.")],
    payloads: Annotated[str, typer.Option(help='JSON: {"item_code": {field: value}}.')],
    acting: As, applicant: Annotated[str, typer.Option(help="Applicant's name.")] = "",
) -> None:
    """Accept a case (受理)."""
    import orjson

    from infra.case_service import CaseService

    try:
        parsed = orjson.loads(payloads)
    except orjson.JSONDecodeError as e:
        console.print(f"[red]--payloads is not JSON: {e}[/red]")
        raise typer.Exit(2) from None
    with container_of(ctx) as c:
        done = CaseService(c).open(code, parsed, _case_actor(c, acting), applicant)
    _print_case(done.result, done.position)


@cases_app.command("attach")
def cases_attach(
    ctx: typer.Context, case_id: Annotated[str, typer.Argument()],
    material_code: Annotated[str, typer.Argument(help="A material code of the case.")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    acting: As,
) -> None:
    """Upload a material (PDF, JPEG, PNG, TIFF) and record it on the case."""
    from infra.case_service import CaseService

    with container_of(ctx) as c, file.open("rb") as source:
        done = CaseService(c).attach(case_id, material_code, source, file.name,
                                     _case_actor(c, acting))
    _print_case(done.result, done.position)


@cases_app.command("sign")
def cases_sign(ctx: typer.Context, case_id: Annotated[str, typer.Argument()], acting: As,
               comment: Annotated[str, typer.Option()] = "") -> None:
    """Sign the case's current step; the last signature completes it."""
    from infra.case_service import CaseService

    with container_of(ctx) as c:
        done = CaseService(c).sign(case_id, _case_actor(c, acting), comment)
    _print_case(done.result, done.position)


@cases_app.command("complete")
def cases_complete(ctx: typer.Context, case_id: Annotated[str, typer.Argument()],
                   acting: As) -> None:
    """Complete a level-3 case (the teller who accepted it)."""
    from infra.case_service import CaseService

    with container_of(ctx) as c:
        done = CaseService(c).complete(case_id, _case_actor(c, acting))
    _print_case(done.result, done.position)


@cases_app.command("reject")
def cases_reject(ctx: typer.Context, case_id: Annotated[str, typer.Argument()], acting: As,
                 reason: Annotated[str, typer.Option()]) -> None:
    from infra.case_service import CaseService

    with container_of(ctx) as c:
        done = CaseService(c).reject(case_id, _case_actor(c, acting), reason)
    _print_case(done.result, done.position)


@cases_app.command("withdraw")
def cases_withdraw(ctx: typer.Context, case_id: Annotated[str, typer.Argument()], acting: As,
                   reason: Annotated[str, typer.Option()]) -> None:
    from infra.case_service import CaseService

    with container_of(ctx) as c:
        done = CaseService(c).withdraw(case_id, _case_actor(c, acting), reason)
    _print_case(done.result, done.position)


@cases_app.command("rate")
def cases_rate(ctx: typer.Context, case_id: Annotated[str, typer.Argument()], acting: As,
               score: Annotated[int, typer.Option(min=1, max=5)],
               comment: Annotated[str, typer.Option()] = "") -> None:
    """Record the applicant's rating (好差评) of a completed case."""
    from infra.case_service import CaseService

    with container_of(ctx) as c:
        done = CaseService(c).rate(case_id, score, comment, _case_actor(c, acting))
    _print_case(done.result, done.position)


@cases_app.command("queue")
def cases_queue(ctx: typer.Context, acting: As,
                scope: Annotated[str, typer.Option(help="to_sign, mine, open or all")] = "to_sign",
                ) -> None:
    """A queue, oldest deadline first, with due and overdue cases marked."""
    from infra.case_queries import case_queue
    from infra.case_service import business_today

    with container_of(ctx) as c:
        c.runner.catch_up()
        actor = _case_actor(c, acting)
        rows = case_queue(c.views, scope, actor.username, actor.roles, business_today())
    table = Table("case", "item", "level", "status", "opened by", "deadline", "next step", "")
    for r in rows:
        flag = "overdue" if r["overdue"] else ("due today" if r["due_today"] else "")
        table.add_row(r["case_id"], r["name_zh"], str(r["risk_level"]), r["status"],
                      r["opened_by"], r["deadline"], r["next_step"] or "", flag)
    out.print(table)


@cases_app.command("show")
def cases_show(ctx: typer.Context, case_id: Annotated[str, typer.Argument()]) -> None:
    """The archive view of a case: timeline, materials, resulting events."""
    from infra.case_queries import case_view
    from infra.case_service import business_today

    with container_of(ctx) as c:
        c.runner.catch_up()
        view = case_view(c.views, case_id, business_today())
    if view is None:
        console.print(f"[red]no case {case_id}[/red]")
        raise typer.Exit(1)
    out.print(f"{view['name_zh']} ({view['code']}), level {view['risk_level']}: {view['status']}"
              f"; opened {view['opened_on']} by {view['opened_by']}, deadline {view['deadline']}")
    for t in view["timeline"]:
        out.print(f"  {t['recorded_at'][:19]}  #{t['position']}  {t['event']:<17} {t['actor']}")
    for m in view["materials"]:
        out.print(f"  material {m['material_code']}: {m['name']} {m['sha256'][:16]}… "
                  f"{m['size_bytes']} bytes")
    for e in view["effects"]:
        out.print(f"  effect {e['event']} {e['aggregate_id']} v{e['version']}")


@cases_app.command("report")
def cases_report(ctx: typer.Context,
                 start: Annotated[str | None, typer.Option("--from")] = None,
                 end: Annotated[str | None, typer.Option("--to")] = None) -> None:
    """Per item: instant-completion rate, average handling time (working days), overdue."""
    from infra.case_queries import case_report
    from infra.case_service import business_today
    from infra.catalogue_loader import default_calendar

    with container_of(ctx) as c:
        c.runner.catch_up()
        report = case_report(c.views, default_calendar(), business_today(), start, end)
    table = Table("item", "opened", "completed", "same day", "avg working days", "overdue",
                  "rating")
    for it in report["items"]:
        table.add_row(it["name_zh"], str(it["opened"]), str(it["completed"]),
                      f"{it['instant_completion_rate']:.0%}"
                      if it["instant_completion_rate"] is not None else "",
                      str(it["average_handling_working_days"] or ""), str(it["overdue"]),
                      str(it["average_rating"] or ""))
    out.print(table)


# -- integrity: keys, digests, verify ---------------------------------------------------------

keys_app = typer.Typer(no_args_is_help=True, help="The bureau's Ed25519 signing key.")
app.add_typer(keys_app, name="keys")


@keys_app.command("generate")
def keys_generate(out_path: Annotated[Path, typer.Option("--out", dir_okay=False,
                                                         help="Where to write the private key "
                                                              "(mode 0600; never overwritten).")]
                  ) -> None:
    """Generate the digest-signing key; prints the public key for auditors to keep."""
    from infra.integrity import generate_key

    public = generate_key(out_path)
    out.print(f"private key written to {out_path} (set SHEBAO_SIGNING_KEY={out_path})")
    out.print(f"public key (give it to the auditors; SHEBAO_VERIFY_KEY): {public}")


@app.command("digest")
def digest_command(
    ctx: typer.Context,
    export: Annotated[Path | None, typer.Option(
        dir_okay=False, help="Also write every published digest here (JSON lines) for the "
                             "auditors to keep outside the system.")] = None,
    publish: Annotated[bool, typer.Option(help="Publish a new digest first.")] = True,
) -> None:
    """Chain the log to its head and publish a signed digest (position, head hash, time)."""
    from infra.integrity import export_digests, load_signing_key, publish_digest

    with container_of(ctx) as c:
        if publish:
            entry = publish_digest(c.store, c.runner.chain, load_signing_key(
                c.settings.signing_key))
            out.print(f"digest at position {entry['position']}: {entry['head_hash']} "
                      f"({entry['published_at']})")
        if export is not None:
            c.runner.catch_up()
            n = export_digests(c.views, export)
            out.print(f"{n} digests written to {export}")


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    digest: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, help="Digests kept outside (shebao digest --export); "
                                          "default: those recorded in the log.")] = None,
    public_key: Annotated[str | None, typer.Option(
        "--public-key", help="Trusted public key (base64); default SHEBAO_VERIFY_KEY, else the "
                             "key each digest names.")] = None,
) -> None:
    """Recompute the hash chain from the stored events; report every edited, deleted or
    inserted position and every digest the events contradict. Exit status 3 when tampered."""
    from rich.progress import Progress

    from infra.integrity import read_digest_file, verify

    with container_of(ctx) as c:
        entries = read_digest_file(digest) if digest is not None else None
        head = c.store.max_position()
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("verifying", total=head)
            result = verify(c.store, c.runner.chain, entries,
                            public_key or c.settings.verify_key,
                            progress=lambda n: bar.advance(task, n))
    report = result.as_dict()
    for f in report["findings"]:
        out.print(f"position {f['position']}: {f['kind']} — {f['detail']}")
    for d in report["digests"]:
        out.print(f"digest at {d['position']} ({d['published_at']}): {d['verdict']}")
    out.print(f"{report['status']}: {report['events']:,} events in {report['seconds']} s "
              f"({report['events_per_second'] or 0:,}/s), chain head {report['chain_head']}")
    if result.status != "ok":
        raise typer.Exit(3)


@app.command("trace")
def trace_command(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help=(
        "fund:<insurance>, personal:<person id>:<insurance>, clearing:tax, suspense, "
        "bank:payout …"))],
    date_from: Annotated[str | None, typer.Option("--from", help="First ledger day (CST), "
                                                  "YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last ledger day.")] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", dir_okay=False,
                                                  help="Write every entry as CSV here.")] = None,
    show: Annotated[int, typer.Option(min=0, help="Entries to print (all go to --csv).")] = 50,
) -> None:
    """资金追溯: every event that touched an account in the span, from the log, with the running
    balance, user, case, signers, materials and import file. Exit status 3 when the trace does
    not tie to the read models."""
    from infra.trace import csv_lines

    with container_of(ctx) as c:
        c.runner.catch_up()
        trace = c.tracer.account(account, date_from, date_to)
        table = Table("position", "day", "event", "period", "debit", "credit", "balance",
                      "actor", "case / source")
        shown: list[Any] = []  # the table shows the first `show`; the CSV takes all

        def keep(entries: Iterator[Any]) -> Iterator[Any]:
            for e in entries:
                if len(shown) < show:
                    shown.append(e)
                yield e

        trace.entries = keep(trace.entries)
        if csv_path is None:
            for _ in trace.entries:
                pass
        else:
            with csv_path.open("w", encoding="utf-8", newline="") as f, Progress(
                    TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True) as bar:
                task = bar.add_task("entries", total=None)
                for chunk in csv_lines(trace):
                    f.write(chunk)
                    bar.update(task, completed=trace.count)
    for e in shown:
        table.add_row(str(e.position), e.day, e.event, e.period or "",
                      fen_to_yuan_text(e.debit_fen), fen_to_yuan_text(e.credit_fen),
                      fen_to_yuan_text(e.balance_fen or 0), e.actor or "",
                      e.case_item or e.source or "")
    out.print(table)
    out.print(f"{trace.account} {trace.date_from} … {trace.date_to}: opening "
              f"{fen_to_yuan_text(trace.opening_balance_fen)}, debits "
              f"{fen_to_yuan_text(trace.debit_fen)}, credits {fen_to_yuan_text(trace.credit_fen)}"
              f", closing {fen_to_yuan_text(trace.closing_balance_fen or 0)} in {trace.count:,} "
              f"entries; ties with the read models: {trace.ties}")
    if csv_path is not None:
        out.print(f"written to {csv_path}")
    if not trace.ties:
        raise typer.Exit(3)


@app.command("history")
def history_command(
    ctx: typer.Context,
    id_number: Annotated[str, typer.Argument(help="Resident ID number.")],
) -> None:
    """A person's whole history across insurances: every event of their registration, months,
    interest years, back-payments, cases, suspense items and benefits, with the fen each put
    on their accounts and the pooled funds."""
    with container_of(ctx) as c:
        c.runner.catch_up()
        person_id = str(c.ledger.person(id_number).id)
        entries = c.tracer.person_history(person_id)
    table = Table("position", "day", "event", "period", "amounts", "actor", "case / source")
    for e in entries:
        amounts = ", ".join(f"{a.replace(person_id, '*')} {fen_to_yuan_text(f)}"
                            for a, f in e.amounts.items())
        table.add_row(str(e.position), e.day, e.event, e.period or "", amounts, e.actor or "",
                      e.case_item or e.source or "")
    out.print(table)


@app.command("access-log")
def access_log_command(
    ctx: typer.Context,
    person: Annotated[str | None, typer.Option(
        "--person", help="The person's ID number or internal id.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Staff username.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First CST day, "
                                                  "YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last CST day.")] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", dir_okay=False,
                                                  help="Write every entry as CSV here.")] = None,
    show: Annotated[int, typer.Option(min=0, max=1000,
                                      help="Entries to print (all go to --csv).")] = 50,
) -> None:
    """查询留痕: staff reads of persons' records through the API, newest first — who, when
    (CST), whose record (masked), what and why. This command's own reading is not recorded."""
    from datetime import date

    filters: dict[str, Any] = {"username": user}
    if person:  # an ID number has 18 characters, an internal id 36
        filters["person_id" if len(person.strip()) == 36 else "id_number"] = person.strip()
    for key, text, option in (("start", date_from, "--from"), ("end", date_to, "--to")):
        try:
            filters[key] = date.fromisoformat(text) if text else None
        except ValueError:
            console.print(f"[red]{option} {text!r} is not a date written YYYY-MM-DD[/red]")
            raise typer.Exit(2) from None
    with container_of(ctx) as c:
        c.runner.catch_up()
        log = c.access_log
        entries = log.entries(**filters, limit=max(show, 1))
        table = Table("position", "accessed at (CST)", "user", "roles", "ID number", "name",
                      "resource", "target", "reason", "note")
        for e in entries[:show]:
            batch = f"({e['persons_read']:,} persons)" if e["persons_read"] > 1 else ""
            table.add_row(str(e["position"]), e["accessed_at"], e["username"],
                          ",".join(e["roles"]), e["id_number_masked"] or batch, e["name_masked"],
                          e["resource"], e["target"],
                          f"{e['reason_code']} {e['reason_name_zh']}", e["note"])
        out.print(table)
        if csv_path is not None:
            with Progress(TextColumn("{task.description}"), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console, transient=True) as bar:
                task = bar.add_task("entries", total=None)
                written = log.write_csv(csv_path, lambda n: bar.update(task, completed=n),
                                        **filters)
            out.print(f"{written:,} entries written to {csv_path}")



# -- risk monitoring (风险监控) -----------------------------------------------------------------

persons_app = typer.Typer(no_args_is_help=True, help="Insured persons: death registration.")
app.add_typer(persons_app, name="persons")
alerts_app = typer.Typer(no_args_is_help=True, help="Risk alerts (风险预警): list, show, "
                         "acknowledge, close; the rules; re-evaluate the log.")
app.add_typer(alerts_app, name="alerts")
ALERT_LIST_MAX = 1000


def _permitted_user(c: Any, username: str, action: str) -> str:
    """The staff user acting from the command line, if their roles allow `action` (as the
    API's PERMISSIONS say)."""
    from api.deps import ADMIN_ROLE, PERMISSIONS

    principal = c.staff.principal(username)
    allowed = {*PERMISSIONS[action], ADMIN_ROLE}
    if allowed.isdisjoint(principal.roles):
        console.print(f"[red]role_forbidden: {action} needs one of the roles "
                      f"{', '.join(sorted(allowed))}; {username} has "
                      f"{', '.join(principal.roles)}[/red]")
        raise typer.Exit(1)
    return str(principal.username)


@persons_app.command("death")
def persons_death(
    ctx: typer.Context,
    id_number: Annotated[str, typer.Argument(help="The person's ID number.")],
    date_of_death: Annotated[str, typer.Option("--date", help="Date of death, YYYY-MM-DD.")],
    evidence: Annotated[str, typer.Option(
        help="What it is known from (死亡医学证明, 户籍注销 …).")],
    acting: Annotated[str, typer.Option("--as", help="The staff user recording it.")],
) -> None:
    """死亡登记: record a person's death (once). Postings and pension payments for months
    after it then raise risk alerts."""
    with container_of(ctx) as c:
        username = _permitted_user(c, acting, "register")
        with c.ledger.acting(username):
            done = c.ledger.record_death(id_number, date_of_death, evidence)
    out.print(f"death of {done.result['person_id']} on {done.result['date_of_death']} recorded;"
              f" position {done.position}")


def _print_alert(r: dict[str, Any], position: int | None = None) -> None:
    out.print(f"alert {r['alert_id']} {r['rule_code']} ({r['rule_name_zh']}, "
              f"{r['severity_zh']}): {r['status']}"
              + (f"; position {position}" if position is not None else ""))
    out.print(f"  {r['summary_zh']}")
    if r["person_id"]:
        out.print(f"  person {r['person_id']}")
    if r["actors"]:
        out.print(f"  staff: {', '.join(r['actors'])}")
    if r["acknowledged_by"]:
        out.print(f"  acknowledged by {r['acknowledged_by']}: {r['acknowledgement_note']}")
    if r["closed_by"]:
        out.print(f"  closed by {r['closed_by']}: {r['resolution']}")


@alerts_app.command("list")
def alerts_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="raised, acknowledged or closed")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule's alerts.")] = None,
    id_number: Annotated[str | None, typer.Option("--id-number",
                                                  help="Only alerts about this person.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=ALERT_LIST_MAX)] = 100,
) -> None:
    """Alerts in the order they were raised (after catching up the monitor)."""
    from domain import ids
    from domain.identity import parse_id_number
    from infra.alert_service import list_alerts, settle

    with container_of(ctx) as c:
        settle(c)
        person_id = (str(ids.person_id(c.settings.region_code,
                                       parse_id_number(id_number).number))
                     if id_number else None)
        table = Table("alert", "raised at", "rule", "severity", "status", "summary")
        for a in list_alerts(c, status, rule, person_id, limit):
            table.add_row(a["alert_id"], a["raised_at"][:19], a["rule_code"], a["severity_zh"],
                          a["status"], a["summary_zh"])
        out.print(table)


@alerts_app.command("show")
def alerts_show(ctx: typer.Context,
                alert_id: Annotated[str, typer.Argument(help="The alert's id.")]) -> None:
    """One alert and the events it links to, with who did them."""
    from domain.risk import actor_of
    from infra.alert_service import alert_view, get_alert

    with container_of(ctx) as c:
        view = alert_view(c, get_alert(c, alert_id))
    _print_alert(view)
    table = Table("position", "event", "aggregate", "version", "recorded at", "by")
    for e in view["linked_events"]:
        state = e["state"] or {}
        table.add_row(str(e["position"]), e["type"], e["originator_id"], str(e["version"]),
                      (e["recorded_at"] or "missing")[:19],
                      actor_of(state.get("meta"), state.get("source")) or "")
    out.print(table)


@alerts_app.command("ack")
def alerts_ack(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="The alert's id.")],
    acting: Annotated[str, typer.Option("--as", help="The auditor acknowledging it.")],
    note: Annotated[str, typer.Option(help="What is being looked into.")] = "",
) -> None:
    """认领: acknowledge an alert (someone is looking into it)."""
    from infra.alert_service import acknowledge_alert

    with container_of(ctx) as c:
        done = acknowledge_alert(c, alert_id, _permitted_user(c, acting, "audit_alerts"), note)
    _print_alert(done.result, done.position)


@alerts_app.command("close")
def alerts_close(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="The alert's id.")],
    acting: Annotated[str, typer.Option("--as", help="The auditor closing it.")],
    resolution: Annotated[str, typer.Option(help="What was found and done.")],
) -> None:
    """办结: close an alert with its resolution."""
    from infra.alert_service import close_alert

    with container_of(ctx) as c:
        done = close_alert(c, alert_id, _permitted_user(c, acting, "audit_alerts"), resolution)
    _print_alert(done.result, done.position)


@alerts_app.command("rules")
def alerts_rules() -> None:
    """The risk rules in force (domain/risk_data/risk_rules.toml, or SHEBAO_RISK_DIR)."""
    import orjson

    from infra.risk_loader import default_risk_rules

    table = Table("rule", "name", "enabled", "severity", "parameters")
    for rule in default_risk_rules().rules.values():
        r = rule.as_dict()
        table.add_row(r["code"], r["name_zh"], "yes" if r["enabled"] else "no",
                      r["severity_zh"], orjson.dumps(r["parameters"]).decode())
    out.print(table)


@alerts_app.command("rescan")
def alerts_rescan(ctx: typer.Context) -> None:
    """Re-evaluate the whole log with the rules in force: raises what was never raised (new
    rules, changed parameters); an alert raised before is not raised again."""
    from infra.alert_service import alert_count, settle

    with container_of(ctx) as c:
        settle(c)
        before = alert_count(c)
        c.risk_monitor.reset()
        with progress_bar() as bar:
            task = bar.add_task("rescan", total=c.store.max_position())
            c.risk_monitor.catch_up(
                progress=lambda position, head: bar.update(task, completed=position, total=head))
        head = settle(c)
        raised = alert_count(c) - before
    out.print(f"log evaluated to position {head}; {raised} new alert(s)")


@app.command("statements")
def statements_command(
    ctx: typer.Context,
    year: Annotated[int, typer.Option(help="The statements' year (the yearly mailing).")],
    acting: Annotated[str, typer.Option(
        "--as", help="The staff user running the mailing (recorded in the access log).")],
    out_dir: Annotated[Path | None, typer.Option(
        "--out", file_okay=False,
        help="Output directory; default <data dir>/<region>/statements/<year>.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=16, help="Processes writing PDFs.")] = 2,
    public_url: Annotated[str | None, typer.Option(
        help="The API's public address for the QR codes; default SHEBAO_PUBLIC_URL.")] = None,
    reason: Annotated[str, typer.Option(
        help="The reason (查询事由) recorded for the batch read.")] = "statement_mailing",
    at_position: Annotated[int | None, typer.Option(
        "--position", min=1, help="As known at this earlier log position (e.g. to print a "
                                  "past mailing again: the same files).")] = None,
) -> None:
    """Write every person's personal rights statement (个人权益记录单) of a year as a PDF, as
    known at the read models' position, with a manifest (masked person, file, verification
    code, content hash, status, date of death). None for a year after a recorded death. The
    batch read is recorded in the access log (one entry: operator, reason, persons, the
    manifest's sha256)."""
    from infra.statement_batch import DEFAULT_PUBLIC_URL, write_statements

    settings = settings_of(ctx)
    with container_of(ctx) as c:
        operator = _permitted_user(c, acting, "read")
    if not (public_url or settings.public_url):
        console.print(f"[yellow]no --public-url or SHEBAO_PUBLIC_URL: the QR codes point at "
                      f"{DEFAULT_PUBLIC_URL}[/yellow]")
    try:
        with progress_bar() as bar:
            task = bar.add_task("statements", total=None)
            result = write_statements(
                settings, year, out_dir, workers, public_url,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                operator=operator, reason_code=reason, position=at_position)
    except DomainError as e:
        console.print(f"[red]{e.code}: {e.message}[/red]")
        raise typer.Exit(1) from None
    out.print(f"{result.persons} statements of {result.year} as known at position "
              f"{result.position} in {result.seconds:.1f} s ({result.per_second:.0f}/s, "
              f"{result.workers} process(es)): {result.out_dir}; manifest {result.manifest}")
    if result.not_mailed_deceased:
        out.print(f"{result.not_mailed_deceased} person(s) not mailed: died before "
                  f"{result.year}")
    if result.access_position is not None:
        out.print(f"access log: {result.persons_read} records read by {operator} "
                  f"({reason}), manifest sha256 {result.manifest_sha256}, position "
                  f"{result.access_position}")


# -- annual report (年度报告) -------------------------------------------------------------------

report_app = typer.Typer(no_args_is_help=True, help="Reports: the annual report (年度报告).")
app.add_typer(report_app, name="report")


@report_app.command("annual")
def report_annual(
    ctx: typer.Context,
    year: Annotated[int, typer.Argument(min=1990, max=2100, help="The calendar year.")],
    html_path: Annotated[Path | None, typer.Option("--html", dir_okay=False,
                                                   help="Write the HTML page here.")] = None,
    xlsx_path: Annotated[Path | None, typer.Option("--xlsx", dir_okay=False,
                                                   help="Write the workbook here.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", dir_okay=False,
                                                   help="Write the JSON here.")] = None,
    targets: Annotated[Path | None, typer.Option(
        "--targets", dir_okay=False, help="Targets file (TOML); default SHEBAO_TARGETS_FILE, "
                                          "else the shipped DEMO targets.")] = None,
    at_position: Annotated[int | None, typer.Option(
        "--position", min=1, help="As known at this log position (e.g. one an earlier report "
                                  "states): the events up to it replayed into temporary read "
                                  "models.")] = None,
) -> None:
    """The year's report from the read models (caught up first): participants per insurance,
    fund income, targets and completion, retirements, transfers, back-payments, cases; or as
    known at an earlier log position (--position)."""
    import orjson

    from infra.annual_report_html import render_html
    from infra.annual_report_labels import short_name, wan_yuan_text
    from infra.annual_report_queries import annual_report
    from infra.annual_report_xlsx import write_xlsx

    with container_of(ctx) as c:
        c.runner.catch_up()
        started = time.perf_counter()
        with progress_bar() as bar:
            task = bar.add_task("replay", total=None, visible=at_position is not None)
            report = annual_report(
                c, year, targets, at_position,
                progress=lambda done, wanted: bar.update(task, completed=done, total=wanted))
        seconds = time.perf_counter() - started
    table = Table("insurance", "participants", "contributing", "interrupted", "retired",
                  "received (万元)", "for periods (万元)")
    for p, f in zip(report["participation"], report["funds"]["insurances"], strict=True):
        table.add_row(f"{p['insurance']} {short_name(p['insurance'], p['name_zh'])}",
                      str(p["participants"]),
                      str(p["contributing"]), str(p["interrupted"]),
                      "-" if p["retired"] is None else str(p["retired"]),
                      wan_yuan_text(f["income_received_fen"]),
                      wan_yuan_text(f["income_for_periods_fen"]))
    out.print(table)
    for t in report["targets"]["items"]:
        out.print(f"target {t['indicator']} {t['insurance']} {t['employer_type'] or 'all'}: "
                  f"{t['actual']} of {t['target']} = {t['completion_percent']}%")
    out.print(f"{year} as known at position {report['position']} ({report['as_of']}), "
              f"computed in {seconds:.2f} s; sha256 {report['content_sha256']}")
    if not report["funds"]["ties_fund_movements"]:
        console.print("[red]the received income differs from fund_movements: "
                      f"{report['funds']['differences']}; rebuild the read models[/red]")
    if json_path is not None:
        json_path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
        out.print(f"written to {json_path}")
    if html_path is not None:
        html_path.write_text(render_html(report), encoding="utf-8")
        out.print(f"written to {html_path}")
    if xlsx_path is not None:
        write_xlsx(report, xlsx_path)
        out.print(f"written to {xlsx_path}")


transfers_app = typer.Typer(no_args_is_help=True, help="Pension transfers between pooling "
                            "regions (跨统筹区转移接续).")
app.add_typer(transfers_app, name="transfers")
TRANSFER_LIST_MAX = 1000  # as infra/transfer_queries.py (imported only when a command runs)


@transfers_app.command("list")
def transfers_list(
    ctx: typer.Context,
    direction: Annotated[str | None, typer.Option(help="in (转入) or out (转出)")] = None,
    status: Annotated[str | None, typer.Option(
        help="accepted (waiting for the old region's funds), posted, remitted or "
             "cancelled")] = None,
    overdue: Annotated[bool, typer.Option(
        "--overdue", help="Only transfers in waiting after their due day (逾期未到账), judged "
                          "on today at the bureau (China Standard Time).")] = False,
    limit: Annotated[int, typer.Option(min=1, max=TRANSFER_LIST_MAX)] = TRANSFER_LIST_MAX,
) -> None:
    """The bureau's transfers, newest first (ID numbers masked)."""
    from domain.identity import mask_id_number
    from domain.transfer import ACCEPTED, CANCELLED, IN, OUT, POSTED, REMITTED
    from infra.case_service import business_today
    from infra.transfer_queries import transfer_list

    for name, value, allowed in (("--direction", direction, (IN, OUT)),
                                 ("--status", status, (ACCEPTED, POSTED, REMITTED,
                                                       CANCELLED))):
        if value is not None and value not in allowed:
            console.print(f"[red]{name} must be one of {', '.join(allowed)}[/red]")
            raise typer.Exit(2)
    today = business_today()
    with container_of(ctx) as c:
        c.runner.catch_up()
        rows = transfer_list(c, today, direction=direction, status=status, overdue=overdue,
                             limit=limit)
    table = Table("transfer no", "direction", "status", "ID number", "other region", "opened",
                  "due", "completed", "months", "account (yuan)", "pooled (yuan)",
                  "total (yuan)")
    for t in rows:
        table.add_row(
            t["transfer_no"], t["direction"],
            t["status"] + (" OVERDUE" if t["overdue"] else ""),
            mask_id_number(t["id_number"]) if t["id_number"] else "",
            f"{t['other_region_code']} {t['other_region_name']}", t["opened_on"],
            t["due_on"] or "", t["completed_on"] or "",
            "" if t["contribution_months"] is None else str(t["contribution_months"]),
            *("" if t[k] is None else fen_to_yuan_text(t[k])
              for k in ("account_fen", "pooled_fen", "total_fen")))
    out.print(table)
    out.print(f"{len(rows)} transfers; overdue judged on {today.isoformat()}")

def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)
