"""The annual report's rows, read from the read models in one snapshot at one log position, and
the report built from them (domain/annual_report.py).

Every figure comes from read models that are rebuilt from the events (`projections rebuild`):
participation_years and participation_milestones (participants, retirements, deaths, links,
pension awards), fund_income_months with fund_income_employers (income per insurance, basis and
employer type), fund_movements (the same income counted again, as a check), account_days
(year-end balances), backpayments, cases, pension_payments, pension_adjustments,
benefit_payments (the other insurances' imported benefits). The queries
run in one read snapshot (`ViewsDb.snapshot`) together with the tracking positions of these
read models: the report says the position P it is as known at, and the same events up to P
give the same report, whichever backend and however often rebuilt. Computed again after events
for the year were added (a back-payment of its months, a late import), it differs, and P says
why.

As known at an earlier position P (`position=`): these read models keep running totals and
current state, not the positions of the events summed into them, so they cannot answer for P
once they have moved past it. The report is then computed from temporary read models into which
the events up to P are replayed (infra/scratch_views.py): the same report the read models gave
when they stood at P, whatever was recorded since. It costs a rebuild of these read models up
to P, so the API allows it up to `REPLAY_POSITION_API_MAX` and the command line for any P."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from domain.annual_report import (
    PERIOD,
    RECEIVED,
    UNKNOWN,
    AdjustmentStats,
    AnnualReportInputs,
    BackPaymentRow,
    CaseRow,
    ExpenditureRow,
    IncomeRow,
    MilestoneRow,
    ParticipationGroup,
    TransferRow,
    build_annual_report,
)
from domain.annual_targets import YEAR_MAX, YEAR_MIN
from domain.assessment import EMPLOYEE_INSURANCES
from domain.certification import CertificationRow, PensionerRow
from domain.errors import NotFound, ValidationFailed
from domain.pension import BASIC_PENSION
from domain.policy import PENSION
from domain.scheme_link import RESIDENTS_PENSION
from infra.annual_targets_loader import load_targets
from infra.bootstrap import Container
from infra.certification_service import certification_rule
from infra.projection_runner import TRACKING_TABLE
from infra.scratch_views import Progress, replayed
from projections.benefit_payments import TABLE as BENEFITS_TABLE
from projections.certifications import CERTIFICATIONS as CERTIFICATIONS_TABLE
from projections.fund_income import EMPLOYERS as EMPLOYER_TYPES_TABLE
from projections.fund_income import TABLE as INCOME_TABLE
from projections.fund_movements import CONTRIBUTION, REVERSAL, ledger_day
from projections.fund_movements import TABLE as MOVEMENTS_TABLE
from projections.participation_years import (
    DIED,
    LINKED,
    MILESTONES,
    MONTH_COLUMNS,
    RETIRED,
    TRANSFERRED_IN,
    TRANSFERRED_OUT,
)
from projections.participation_years import TABLE as YEARS_TABLE
from projections.pension_adjustments import ADJUSTMENTS as ADJUSTMENTS_TABLE
from projections.pension_payments import DEATHS as DEATHS_TABLE
from projections.pension_payments import ENTITLEMENTS as ENTITLEMENTS_TABLE
from projections.pension_payments import PAYMENTS as PAYMENTS_TABLE
from projections.registry import all_projections
from projections.transfers import TABLE as TRANSFERS_TABLE

Query = Callable[..., list[tuple[Any, ...]]]

# The read models the report reads: it is as known at the least position among them.
READ_MODELS = ("participation_years", "fund_income", "fund_movements", "account_days",
               "backpayments", "cases", "pension_payments", "pension_adjustments",
               "pension_certifications", "pension_transfers", "benefit_payments")
# A report as known at an earlier position replays the log up to it (measured ~19,000 positions
# a second on PostgreSQL, 2 cores): the API does it for positions up to this (under a minute),
# the command line for any.
REPLAY_POSITION_API_MAX = 1_000_000
PERSONAL_PREFIX = "personal:*:"
FUND_PREFIX = "fund:"


def check_year(year: int) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
        raise ValidationFailed("year_out_of_range",
                               f"year must be {YEAR_MIN}-{YEAR_MAX}, got {year!r}", field="year")
    return year


def annual_report(c: Container, year: int, targets_path: Path | None = None,
                  position: int | None = None, progress: Progress | None = None,
                  replay_position_max: int | None = None) -> dict[str, Any]:
    """The report of `year` as the read models stand now (catch them up first to include the
    latest events), or as known at log `position` (an event of the log). `targets_path`: a
    targets file (TOML) instead of the configured one. `progress`: of a replay, if one is
    needed; `replay_position_max`: refuse a replay beyond this position."""
    check_year(year)
    targets, targets_file = load_targets(targets_path, set(EMPLOYEE_INSURANCES))
    rows = None
    with c.views.snapshot() as query:
        reached = read_position(query)
        if position is None or position == reached:
            position = reached
            rows = _rows(query, year)
    if rows is None:
        assert position is not None
        check_position(c, position)
        if replay_position_max is not None and position > replay_position_max:
            raise ValidationFailed(
                "report_replay_too_long", f"the report as known at position {position} needs "
                f"the log replayed up to it; here only up to {replay_position_max}: run "
                f"`shebao report annual {year} --position {position}`", field="position")
        models = [p for p in all_projections() if p.name in READ_MODELS]
        with replayed(c.store, models, position, progress) as views, views.snapshot() as query:
            assert read_position(query) == position
            rows = _rows(query, year)
    as_of = c.store.events_at([position]) if position > 0 else []
    recorded_at = as_of[0].recorded_at if as_of else ""
    insurances = {code: c.policy.insurances[code].name_zh for code in EMPLOYEE_INSURANCES}
    return build_annual_report(AnnualReportInputs(
        region_code=c.settings.region_code, year=year, position=position, as_of=recorded_at,
        as_of_day=ledger_day(recorded_at) if recorded_at else "", insurances=insurances,
        targets=targets, targets_file=targets_file, **rows))


def check_position(c: Container, position: int) -> int:
    """A position a report can be as known at: an event of the log."""
    if isinstance(position, bool) or not isinstance(position, int) or position < 1:
        raise ValidationFailed("position_out_of_range", f"position must be a log position "
                               f"(1 or more), got {position!r}", field="position")
    head = c.store.max_position()
    if position > head:
        raise ValidationFailed("position_not_reached", f"position {position} is beyond the "
                               f"log's head ({head})", field="position")
    if not c.store.events_at([position]):
        raise NotFound("position_not_found", f"the log has no event at position {position} "
                       "(a gap left by a rolled-back write); take the position a report "
                       "states", field="position")
    return position


def read_position(query: Query) -> int:
    marks = ", ".join("?" * len(READ_MODELS))
    found = {str(name): int(position) for name, position in query(
        f"SELECT name, position FROM {TRACKING_TABLE} WHERE name IN ({marks})", READ_MODELS)}
    missing = set(READ_MODELS) - set(found)
    assert not missing, f"read models not set up: {missing}"
    return min(found.values())


def _rows(query: Query, year: int) -> dict[str, Any]:
    first, last = f"{year:04d}-01-01", f"{year:04d}-12-31"
    return {
        "participation": participation_groups(query, year),
        "milestones": milestones_in_year(query, year),
        "income": [IncomeRow(str(b), str(m), str(i), str(t), str(k), int(fen))
                   for b, m, i, t, k, fen in query(
                       f"SELECT basis, month, insurance, employer_type, kind, amount_fen"
                       f" FROM {INCOME_TABLE} WHERE month >= ? AND month <= ?",
                       (first[:7], last[:7]))],
        "fund_movements_fen": {str(i): int(fen) for i, fen in query(
            f"SELECT insurance, SUM(amount_fen) FROM {MOVEMENTS_TABLE} WHERE day >= ?"
            " AND day <= ? AND kind IN (?, ?) GROUP BY insurance",
            (first, last, CONTRIBUTION, REVERSAL))},
        **_balances(query, last),
        "backpayments": [
            BackPaymentRow(str(person), str(status), ledger_day(assessed_at),
                           ledger_day(decided_at) if decided_at else None,
                           collected_on, int(months), int(principal), int(fee), int(interest),
                           int(total))
            for person, status, assessed_at, decided_at, collected_on, months, principal, fee,
            interest, total in query(
                "SELECT person_id, status, assessed_at, decided_at, collected_on, months,"
                " principal_fen, late_fee_fen, interest_fen, total_fen FROM backpayments")],
        "cases": [CaseRow(str(code), str(name), str(status), str(opened), str(deadline),
                          completed, None if rating is None else int(rating))
                  for code, name, status, opened, deadline, completed, rating in query(
                      "SELECT code, name_zh, status, opened_on, deadline, completed_on, rating"
                      " FROM cases WHERE opened_on >= ? AND opened_on <= ?", (first, last))],
        **_expenditure(query, year),
        **_certification(query),
        "transfers": [TransferRow(str(direction), str(status), str(person), str(code),
                                  str(name), str(opened), due, completed, int(months or 0),
                                  int(account or 0), int(pooled or 0))
                      for direction, status, person, code, name, opened, due, completed, months,
                      account, pooled in query(
                          "SELECT direction, status, person_id, other_region_code,"
                          " other_region_name, opened_on, due_on, completed_on,"
                          f" contribution_months, account_fen, pooled_fen FROM {TRANSFERS_TABLE}"
                          # log order: a region is named as in its year's first transfer
                          # recorded, whatever order the database returns rows in
                          " WHERE opened_on <= ? ORDER BY opened_position", (last,))],
    }


def _certification(query: Query) -> dict[str, Any]:
    """Every pensioner (with the death, if recorded) and certification on record: the report
    counts the year's (domain/certification.py `year_counts`)."""
    return {
        "pensioners": [PensionerRow(str(person), str(retired), None if died is None
                                    else str(died))
                       for person, retired, died in query(
                           f"SELECT e.person_id, e.retirement_date, d.date_of_death FROM"
                           f" {ENTITLEMENTS_TABLE} e LEFT JOIN {DEATHS_TABLE} d"
                           " ON d.person_id = e.person_id WHERE e.kind = ?", (BASIC_PENSION,))],
        "certifications": [CertificationRow(str(person), str(day), str(method))
                           for person, day, method in query(
                               "SELECT person_id, certified_on, method FROM"
                               f" {CERTIFICATIONS_TABLE}")],
        "certification_period_days": certification_rule().period_days,
    }


def _expenditure(query: Query, year: int) -> dict[str, Any]:
    """Pension payments (read model `pension_payments`) per month of the year: paid on a
    ledger day of it (RECEIVED) and paid for it (PERIOD); and the persons paid for a month of
    the year."""
    first, last = f"{year:04d}-01", f"{year:04d}-12"
    # The adjustments in effect are what a payment holds over its award's parts.
    sums = ("SUM(total_fen), SUM(basic_fen), SUM(transitional_fen),"
            " SUM(account_from_personal_fen), SUM(account_from_pool_fen), COUNT(*),"
            " SUM(total_fen - basic_fen - transitional_fen - account_fen)")
    rows = [ExpenditureRow(RECEIVED, str(month), PENSION, *(int(v) for v in values))
            for month, *values in query(
                f"SELECT substr(day, 1, 7), {sums} FROM {PAYMENTS_TABLE}"
                " WHERE day >= ? AND day <= ? GROUP BY substr(day, 1, 7)",
                (f"{first}-01", f"{last}-31"))]
    rows += [ExpenditureRow(PERIOD, str(month), PENSION, *(int(v) for v in values))
             for month, *values in query(
                 f"SELECT period, {sums} FROM {PAYMENTS_TABLE} WHERE period >= ?"
                 " AND period <= ? GROUP BY period", (first, last))]
    [(recipients,)] = query(f"SELECT COUNT(DISTINCT person_id) FROM {PAYMENTS_TABLE}"
                            " WHERE period >= ? AND period <= ?", (first, last))
    benefits, benefit_recipients = _benefit_expenditure(query, year)
    [(persons, increase, arrears_months, arrears)] = query(
        "SELECT COUNT(*), COALESCE(SUM(delta_fen), 0), COALESCE(SUM(arrears_months), 0),"
        f" COALESCE(SUM(arrears_fen), 0) FROM {ADJUSTMENTS_TABLE} WHERE year = ?", (year,))
    return {"expenditure": rows + benefits,
            "benefit_recipients": {PENSION: int(recipients), **benefit_recipients},
            "pension_adjustment": AdjustmentStats(int(persons), int(increase),
                                                  int(arrears_months), int(arrears))}


def _benefit_expenditure(query: Query, year: int
                         ) -> tuple[list[ExpenditureRow], dict[str, int]]:
    """The imported benefits of the other insurances (read model `benefit_payments`) per
    insurance and month of the year: paid in it by their own payment date (支付日期, RECEIVED:
    the paying system's day, not the day the file was imported) and paid for it (PERIOD); and
    the persons paid for a month of the year, per insurance."""
    first, last = f"{year:04d}-01", f"{year:04d}-12"

    def row(basis: str, month: Any, insurance: Any, amount: Any, payments: Any
            ) -> ExpenditureRow:
        return ExpenditureRow(basis, str(month), str(insurance), int(amount), 0, 0, 0, 0,
                              int(payments))

    rows = [row(RECEIVED, *values) for values in query(
        f"SELECT substr(paid_on, 1, 7), insurance, SUM(amount_fen), COUNT(*) FROM {BENEFITS_TABLE}"
        " WHERE paid_on >= ? AND paid_on <= ? GROUP BY substr(paid_on, 1, 7), insurance",
        (f"{first}-01", f"{last}-31"))]
    rows += [row(PERIOD, *values) for values in query(
        f"SELECT period, insurance, SUM(amount_fen), COUNT(*) FROM {BENEFITS_TABLE}"
        " WHERE period >= ? AND period <= ? GROUP BY period, insurance", (first, last))]
    recipients = {str(insurance): int(persons) for insurance, persons in query(
        f"SELECT insurance, COUNT(DISTINCT person_id) FROM {BENEFITS_TABLE}"
        " WHERE period >= ? AND period <= ? GROUP BY insurance", (first, last))}
    return rows, recipients


def participation_groups(query: Query, year: int) -> list[ParticipationGroup]:
    """Persons grouped by employer type, the insurances with a month in the year and before
    it, and the milestones reached by its end: one aggregate query, a few dozen rows back."""
    end = f"{year:04d}-12-31"
    flags = []
    for i, column in enumerate(MONTH_COLUMNS):
        flags.append(f"MAX(CASE WHEN year = {year} AND {column} > 0 THEN 1 ELSE 0 END) AS y{i}")
        flags.append(f"MAX(CASE WHEN year < {year} AND {column} > 0 THEN 1 ELSE 0 END) AS b{i}")
    flag_columns = [f"COALESCE(py.{p}{i}, 0)" for i in range(len(MONTH_COLUMNS))
                    for p in ("y", "b")]
    milestone = "MAX(CASE WHEN kind = ? THEN 1 ELSE 0 END)"
    last_day = "MAX(CASE WHEN kind = ? THEN day ELSE '' END)"
    selected = [f"COALESCE(e.employer_type, '{UNKNOWN}')", *flag_columns,
                "COALESCE(ms.retired, 0)", "COALESCE(ms.died, 0)", "COALESCE(ms.linked, 0)",
                # the pension relationship is elsewhere: its last transfer was out
                "CASE WHEN COALESCE(ms.last_out, '') > COALESCE(ms.last_in, '') THEN 1 ELSE 0"
                " END"]
    sql = (
        f"WITH py AS (SELECT person_id, MAX(year) AS last_year, {', '.join(flags)}"
        f" FROM {YEARS_TABLE} WHERE year <= {year} GROUP BY person_id),"
        f" ms AS (SELECT person_id, {milestone} AS retired, {milestone} AS died,"
        f" {milestone} AS linked, {last_day} AS last_out, {last_day} AS last_in"
        f" FROM {MILESTONES} WHERE day <= ? GROUP BY person_id),"
        " persons AS (SELECT person_id FROM py UNION SELECT person_id FROM ms)"
        f" SELECT {', '.join(selected)}, COUNT(*) FROM persons p"
        " LEFT JOIN py ON py.person_id = p.person_id"
        f" LEFT JOIN {YEARS_TABLE} l ON l.person_id = py.person_id AND l.year = py.last_year"
        f" LEFT JOIN {EMPLOYER_TYPES_TABLE} e ON e.credit_code = l.employer_code"
        " LEFT JOIN ms ON ms.person_id = p.person_id"
        f" GROUP BY {', '.join(str(n) for n in range(1, len(selected) + 1))}"
    )
    groups = []
    for row in query(sql, (RETIRED, DIED, LINKED, TRANSFERRED_OUT, TRANSFERRED_IN, end)):
        employer_type, *flag_values, retired, died, linked, moved_out, persons = row
        in_year = frozenset(ins for i, ins in enumerate(EMPLOYEE_INSURANCES)
                            if flag_values[2 * i])
        before = frozenset(ins for i, ins in enumerate(EMPLOYEE_INSURANCES)
                           if flag_values[2 * i + 1])
        groups.append(ParticipationGroup(str(employer_type), in_year, before, bool(retired),
                                         bool(died), bool(linked), int(persons),
                                         transferred_out=bool(moved_out)))
    return groups


def milestones_in_year(query: Query, year: int) -> list[MilestoneRow]:
    """The year's milestones per kind and employer type (of the person's latest month posted
    up to the year's end)."""
    employer_type = (
        f"SELECT e.employer_type FROM {YEARS_TABLE} y JOIN {EMPLOYER_TYPES_TABLE} e"
        f" ON e.credit_code = y.employer_code WHERE y.person_id = m.person_id"
        f" AND y.year <= {year} ORDER BY y.year DESC LIMIT 1")
    rows = query(
        f"SELECT kind, employer_type, COUNT(DISTINCT person_id), SUM(amount_fen) FROM"
        f" (SELECT m.kind, m.person_id, m.amount_fen, COALESCE(({employer_type}), '{UNKNOWN}')"
        f" AS employer_type FROM {MILESTONES} m WHERE m.day >= ? AND m.day <= ?) x"
        " GROUP BY kind, employer_type", (f"{year:04d}-01-01", f"{year:04d}-12-31"))
    return [MilestoneRow(str(kind), str(t), int(persons), int(amount))
            for kind, t, persons, amount in rows]


def _balances(query: Query, last_day: str) -> dict[str, Any]:
    """Balances at the year's end per insurance: its pooled fund plus its personal accounts;
    and the residents' accounts moved in by the link (城乡衔接)."""
    per_insurance: dict[str, int] = {}
    for account, balance in query(
            "SELECT account, SUM(credit_fen) - SUM(debit_fen) FROM account_days"
            " WHERE day <= ? GROUP BY account", (last_day,)):
        name = str(account)
        for prefix in (FUND_PREFIX, PERSONAL_PREFIX):
            if name.startswith(prefix):
                insurance = name[len(prefix):]
                per_insurance[insurance] = per_insurance.get(insurance, 0) + int(balance)
    return {"year_end_balances_fen": {i: per_insurance.get(i, 0) for i in EMPLOYEE_INSURANCES},
            "residents_accounts_fen": per_insurance.get(RESIDENTS_PENSION, 0)}
