"""Write the tax bureau's collection detail (实收明细) for one month of the demo region: one row
per person × insurance, as `shebao demo --persons N --seed S` registered them, with the
amounts assessed from each person's declared base (a share of persons can be made to pay
short, and unknown persons or broken lines can be mixed in).

    scripts/gen_collections.py --persons 10000 --period 2024-12 --out sw202412.csv
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

from domain.assessment import assess_month
from domain.collection import COLUMNS
from domain.periods import parse_period
from infra.demo import FIRST_PERIOD, make_id_number, plan_region
from infra.policy_loader import default_policy


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20231)
    parser.add_argument("--period", default="2024-12")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--short-share", type=float, default=0.0,
                        help="share of persons whose employer pays 1.00 yuan short")
    parser.add_argument("--unknown", type=int, default=0, help="rows of unregistered persons")
    parser.add_argument("--broken", type=int, default=0, help="rows with a bad period")
    parser.add_argument("--encoding", default="utf-8")
    args = parser.parse_args()

    policy = default_policy()
    period = parse_period(args.period)
    plan = plan_region(args.persons, 24, args.seed)
    year_index = period.year - FIRST_PERIOD.year
    rng = random.Random(args.seed + 7)
    serial = 0
    with args.out.open("w", encoding=args.encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow([c.header_zh for c in COLUMNS])

        def row(number: str, code: str, line: list[object], short_fen: int = 0,
                period_text: str = str(period)) -> None:
            nonlocal serial
            serial += 1
            insurance, base, employer, individual, _account = line
            assert isinstance(employer, int) and isinstance(individual, int)
            assert isinstance(base, int)
            writer.writerow([f"{period.year}{period.month:02d}{serial:09d}", code, number,
                             insurance, period_text, yuan(base), yuan(employer - short_fen),
                             yuan(individual), f"{period.year}-{period.month:02d}-15",
                             f"SW{period.year}{period.month:02d}"])

        for p in plan.people:
            wages = p["wages_fen"]
            assert isinstance(wages, list)
            wage = wages[min(max(year_index, 0), len(wages) - 1)]
            employer = plan.employers[int(str(p["employer"]))]
            risk_class = int(str(employer["risk_class"]))
            lines = assess_month(policy, period, policy.clamp_base(period.year, int(wage)),
                                 risk_class)
            short = rng.random() < args.short_share
            for line in lines:
                row(str(p["id_number"]), str(employer["credit_code"]), line,
                    100 if short and line[0] == "110" else 0)
        used: set[str] = {str(p["id_number"]) for p in plan.people}
        code = str(plan.employers[0]["credit_code"])
        for _ in range(args.unknown):
            lines = assess_month(policy, period, policy.clamp_base(period.year, 800_000), 1)
            row(make_id_number(rng, used), code, lines[0])
        for _ in range(args.broken):
            p = rng.choice(plan.people)
            lines = assess_month(policy, period, policy.clamp_base(period.year, 800_000), 1)
            row(str(p["id_number"]), code, lines[0], period_text=f"{period.year}-13")
    print(f"{serial} rows written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
