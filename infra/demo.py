"""A deterministic synthetic region for demos and benchmarks: employers across risk classes,
insured persons with valid ID numbers and plausible (invented) names, employment, two years of
base declarations with some changes, 24 months of contributions through the real bulk path,
a few reversals with corrected re-postings, and yearly interest.

Everything here is synthetic: ID numbers and credit codes are generated with valid check
characters and random birth dates; names are random combinations of common characters."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from domain.identity import USCC_CHARSET, id_number_check_char, uscc_check_char
from domain.money import apply_rate
from domain.periods import Period
from domain.registration import Employer, Person
from domain.transfer import expand_segments, month_segments, pooled_part_fen
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.interest_service import credit_interest

DEMO_SOURCE = "demo"
SAVE_BATCH_AGGREGATES = 1000
PERSONS_PER_EMPLOYER = 20
FIRST_PERIOD = Period(2023, 1)
REVERSAL_SHARE = 0.002  # of person-months: reversed (红冲) and re-posted with a corrected base
TRANSFER_IN_SHARE = 0.001  # of persons: pension relationships moved here from other provinces
TRANSFERS_IN_MIN = 3  # the last accepted one is left waiting for its funds (在途, overdue)
DEMO_ACCOUNT_SHARE = Decimal("0.0896")  # 8% of the bases × 1.12 interest, a plausible balance
TRANSFERS_OUT = 2  # moved to other provinces in January of the year after the last
# Benefits other systems paid in the last year, imported as a payment-detail file (per person):
UNEMPLOYED_SHARE = 0.03  # 失业保险金 for 3-6 months (a few with a training subsidy)
MATERNITY_SHARE = 0.02  # of women: 生育津贴 (98 days of wage) and 生育医疗费
INJURED_SHARE = 0.004  # 工伤医疗费, a third of them with 一次性伤残补助金
MEDICAL_SHARE = 0.01  # 1-3 settlements of the employee medical insurance (医疗费用结算)
UNEMPLOYMENT_BENEFIT_FEN = (172_000, 195_000)  # a month, about 90% of Guangdong's minimum wage
# Other provinces' agencies (a move inside Guangdong would move no money, DOMAIN.md §5.1).
OTHER_REGIONS = (("330106", "杭州市西湖区社会保险事业管理中心"),
                 ("110101", "北京市东城区社会保险基金管理中心"),
                 ("510104", "成都市锦江区社会保险事业管理局"),
                 ("420106", "武汉市武昌区社会保险管理处"))

SURNAMES = "陈李黄伍梁张刘林王余甄谭雷关朱邝马何赵周吴郑冯蔡许邓曾彭苏卢蒋叶"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华志红玉兰建国海燕婷晓东文斌"
TOWNS = ("台城", "大江", "水步", "四九", "白沙", "三合", "冲蒌", "斗山", "都斛", "赤溪",
         "端芬", "广海", "海宴", "汶村", "深井", "北陡", "川岛")
# (risk class, industry, name ending) — industry classes after DOMAIN.md §1.4 [S15]
INDUSTRIES = (
    (1, "软件和信息技术服务业", "信息科技有限公司"),
    (1, "金融业", "投资咨询有限公司"),
    (2, "批发和零售业", "商贸有限公司"),
    (2, "住宿和餐饮业", "餐饮管理有限公司"),
    (3, "食品制造业", "食品有限公司"),
    (3, "纺织服装业", "制衣有限公司"),
    (4, "金属制品业", "五金制品有限公司"),
    (4, "道路运输业", "运输有限公司"),
    (5, "建筑安装业", "建筑工程有限公司"),
    (6, "非金属矿物制品业", "建材有限公司"),
    (7, "石油和天然气开采业", "能源开发有限公司"),
    (8, "煤炭开采和洗选业", "矿业有限公司"),
)
PUBLIC_INSTITUTIONS = ("人民医院", "第一中学", "自来水公司", "图书馆", "疾病预防控制中心")


@dataclass
class DemoPlan:
    persons: int
    months: int = 24
    seed: int = 20231
    employers: list[dict[str, object]] = field(default_factory=list)
    people: list[dict[str, object]] = field(default_factory=list)


def make_credit_code(rng: random.Random, used: set[str]) -> str:
    while True:
        org = "".join(rng.choice(USCC_CHARSET[:10]) for _ in range(8)) + rng.choice(USCC_CHARSET)
        first17 = "91440781" + org
        code = first17 + uscc_check_char(first17)
        if code not in used:
            used.add(code)
            return code


def make_id_number(rng: random.Random, used: set[str], area: str = "440781") -> str:
    while True:
        birth = date(1966, 1, 1) + timedelta(days=rng.randrange(365 * 37))
        first17 = f"{area}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        number = first17 + id_number_check_char(first17)
        if number not in used:
            used.add(number)
            return number


def plan_region(persons: int, months: int = 24, seed: int = 20231) -> DemoPlan:
    rng = random.Random(seed)
    plan = DemoPlan(persons, months, seed)
    codes: set[str] = set()
    for i in range(max(5, persons // PERSONS_PER_EMPLOYER)):
        town = TOWNS[i % len(TOWNS)]
        if rng.random() < 0.1:
            name = f"台山市{town}{rng.choice(PUBLIC_INSTITUTIONS)}"
            plan.employers.append({"credit_code": make_credit_code(rng, codes), "name": name,
                                   "employer_type": "public_institution", "risk_class": 1,
                                   "industry": "公共管理和社会组织"})
            continue
        risk_class, industry, ending = rng.choices(
            INDUSTRIES, weights=(6, 3, 8, 5, 6, 6, 5, 3, 4, 2, 1, 1))[0]
        word = rng.choice(GIVEN) + rng.choice(GIVEN)
        plan.employers.append({"credit_code": make_credit_code(rng, codes),
                               "name": f"台山市{town}{word}{ending}",
                               "employer_type": "enterprise", "risk_class": risk_class,
                               "industry": industry})
    numbers: set[str] = set()
    for _ in range(persons):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        wage = int(rng.lognormvariate(8.75, 0.45)) * 100  # fen; median ≈ 6,300 yuan/month
        plan.people.append({
            "id_number": make_id_number(rng, numbers),
            "name": name,
            "employer": rng.randrange(len(plan.employers)),
            "wages_fen": [wage, int(wage * rng.choice((1.0, 1.0, 1.03, 1.05, 1.08, 0.95)))],
        })
    return plan


def periods(first: Period, count: int) -> list[Period]:
    result = [first]
    while len(result) < count:
        result.append(result[-1].next())
    return result


Progress = Callable[[str, int, int], None]  # (stage, done, total)


def load_demo(c: Container, persons: int, months: int = 24, seed: int = 20231,
              progress: Progress | None = None) -> dict[str, object]:
    """Load the demo region into an empty store. Deterministic for a given (persons, seed)."""
    report = progress or (lambda stage, done, total: None)
    plan = plan_region(persons, months, seed)
    app = c.store.app
    region = c.settings.region_code
    year_periods = periods(FIRST_PERIOD, months)
    years = sorted({p.year for p in year_periods})

    batch: list[object] = []
    total_employers = len(plan.employers)
    for i, e in enumerate(plan.employers, 1):
        batch.append(Employer(region_code=region, registered_on="2015-01-01", **e))
        if len(batch) >= SAVE_BATCH_AGGREGATES or i == total_employers:
            app.save(*batch)
            batch.clear()
            report("employers", i, total_employers)

    for i, p in enumerate(plan.people, 1):
        number = str(p["id_number"])
        person = Person(region_code=region, id_number=number, name=str(p["name"]),
                        sex="M" if int(number[16]) % 2 else "F",
                        birth_date=f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
                        registered_on="2022-12-01")
        employer = plan.employers[int(str(p["employer"]))]
        person.start_employment(str(employer["credit_code"]), "2022-12-01")
        wages = p["wages_fen"]
        assert isinstance(wages, list)
        for year, wage in zip(years, wages, strict=False):
            person.declare_base(c.policy, year, int(wage))
        batch.append(person)
        if len(batch) >= SAVE_BATCH_AGGREGATES or i == persons:
            app.save(*batch)
            batch.clear()
            report("persons", i, persons)

    def requests() -> Iterator[PostingRequest]:
        for period in year_periods:
            for p in plan.people:
                wages = p["wages_fen"]
                assert isinstance(wages, list)
                wage = wages[min(period.year - FIRST_PERIOD.year, len(wages) - 1)]
                employer = plan.employers[int(str(p["employer"]))]
                yield PostingRequest(str(p["id_number"]), str(employer["credit_code"]),
                                     str(period), c.policy.clamp_base(period.year, int(wage)))

    total_months = persons * months
    done = 0

    def on_batch(n: int) -> None:
        nonlocal done
        done += n
        report("contributions", done, total_months)

    posted = BulkPoster(c.store, c.policy, DEMO_SOURCE).post(requests(), progress=on_batch,
                                                             keep_posted=False)

    # A few wrong postings, reversed and posted again with the corrected base.
    rng = random.Random(seed + 1)
    reversals = max(1, int(total_months * REVERSAL_SHARE))
    for _ in range(reversals):
        p = rng.choice(plan.people)
        period = rng.choice(year_periods)
        wages = p["wages_fen"]
        assert isinstance(wages, list)
        corrected = int(wages[min(period.year - FIRST_PERIOD.year, len(wages) - 1)] * 1.1)
        employer = plan.employers[int(str(p["employer"]))]
        c.ledger.reverse_contribution(str(p["id_number"]), str(period),
                                      "基数申报有误，红冲后重新核定", source=DEMO_SOURCE)
        c.ledger.post_contribution(str(p["id_number"]), str(employer["credit_code"]),
                                   str(period), c.policy.clamp_base(period.year, corrected),
                                   source=DEMO_SOURCE)
    report("reversals", reversals, reversals)

    c.runner.catch_up(progress=lambda pos, head: report("projections", pos, head))
    moved_in = _transfers_in(c, plan, years[-1], rng)
    report("transfers in", len(moved_in), len(moved_in))
    interest = []
    for year in years:
        if period_complete(year, year_periods) and year in c.policy.interest_rates:
            run = credit_interest(c.store, c.policy, c.runner, c.queries, year)
            interest.append({"year": year, "credited": run.credited,
                             "interest_fen": run.interest_fen})
            report(f"interest {year}", 1, 1)
    moved_out = _transfers_out(c, plan, years[-1] + 1, rng, exclude=set(moved_in))
    report("transfers out", len(moved_out), len(moved_out))
    benefits = _benefit_payments(c, plan, years[-1], rng)
    report("benefits", benefits, benefits)
    c.runner.catch_up()
    return {"employers": total_employers, "persons": persons,
            "person_months": posted.summary(), "reversals": reversals, "interest": interest,
            "transfers_in": len(moved_in), "transfers_out": len(moved_out),
            "benefit_payments": benefits, "position": c.store.max_position()}


def _transfers_in(c: Container, plan: DemoPlan, year: int, rng: random.Random) -> list[str]:
    """Persons born by 1990 whose relationship moved here in `year` with 2016-2022 from
    another province (accepted in March, funds posted in April); the last one accepted in
    December and still waiting at the year's end."""
    from infra.transfer_service import accept_transfer_in, post_transfer_in

    older = [p for p in plan.people if str(p["id_number"])[6:10] <= "1990"]
    count = min(len(older), max(TRANSFERS_IN_MIN, int(len(plan.people) * TRANSFER_IN_SHARE)))
    chosen = rng.sample(older, count)
    for i, p in enumerate(chosen):
        number = str(p["id_number"])
        code, name = OTHER_REGIONS[i % len(OTHER_REGIONS)]
        waiting = i == count - 1
        accepted = accept_transfer_in(
            c, number, code, name, applied_on=f"{year}-{12 if waiting else 3:02d}-02",
            accepted_on=f"{year}-{12 if waiting else 3:02d}-09").result
        if waiting:
            continue
        wages = p["wages_fen"]
        assert isinstance(wages, list)
        base_fen = c.policy.clamp_base(2019, apply_rate(int(wages[0]), Decimal("0.8")))
        months = expand_segments([["2016-01", "2022-12", base_fen]])
        # 8% a month, and about 12% more for the interest of the years since
        account_fen = apply_rate(sum(months.values()), DEMO_ACCOUNT_SHARE)
        post_transfer_in(c, number, str(accepted["transfer_no"]), f"{year}-04-01",
                         month_segments(months), account_fen, pooled_part_fen(months),
                         f"HK{year}{i:05d}", posted_on=f"{year}-04-08")
    return [str(p["id_number"]) for p in chosen]


def _transfers_out(c: Container, plan: DemoPlan, year: int, rng: random.Random,
                   exclude: set[str]) -> list[str]:
    """Persons who stopped contributing here at the end of the previous year and whose
    relationship moved to another province in January of `year`."""
    from infra.transfer_service import transfer_out

    candidates = [p for p in plan.people if str(p["id_number"]) not in exclude]
    chosen = rng.sample(candidates, min(TRANSFERS_OUT, len(candidates)))
    for i, p in enumerate(chosen):
        number = str(p["id_number"])
        employer = plan.employers[int(str(p["employer"]))]
        c.ledger.end_employment(number, str(employer["credit_code"]), f"{year - 1}-12-31")
        code, name = OTHER_REGIONS[(i + 1) % len(OTHER_REGIONS)]
        transfer_out(c, number, f"ZR{code}{year}01{i:04d}", code, name, f"{year}-01-06",
                     f"{year}-01-20")
    return [str(p["id_number"]) for p in chosen]


def _benefit_payments(c: Container, plan: DemoPlan, year: int, rng: random.Random) -> int:
    """Benefits of 210/310/410/510 paid by other systems in `year` (unemployment benefit, a
    training subsidy, maternity allowance and medical bills, work-injury medical bills and
    one-off subsidies, medical settlements), written as a payment-detail file and imported the
    way a clerk would (infra/benefit_payment_import.py); the number of payments. Invented: the
    demo's persons stay employed and contributing meanwhile."""
    import csv
    import tempfile
    from pathlib import Path

    from infra.benefit_payment_import import import_benefit_payments

    last_day = date(year, 12, 31)
    if last_day >= date.today():
        return 0  # a payment cannot be dated in the future
    rows: list[list[str]] = []

    def pay(number: str, insurance: str, kind: str, month: int, day: int, fen: int,
            prefix: str) -> None:
        paid_on = date(year, month, day)
        rows.append([paid_on.isoformat(), insurance, kind, number, f"{year}-{month:02d}",
                     f"{fen // 100}.{fen % 100:02d}", f"{prefix}{year}{len(rows) + 1:06d}"])

    people = plan.people
    for p in rng.sample(people, max(3, int(len(people) * UNEMPLOYED_SHARE))):
        number, first = str(p["id_number"]), rng.randint(1, 7)
        monthly_fen = rng.randint(*UNEMPLOYMENT_BENEFIT_FEN)
        for month in range(first, first + rng.randint(3, 6)):
            pay(number, "210", "失业保险金", month, 15, monthly_fen, "SY")
        if rng.random() < 0.2:
            pay(number, "210", "职业培训补贴", first + 2, 20, rng.randint(80_000, 200_000), "SY")
    women = [p for p in people if int(str(p["id_number"])[16]) % 2 == 0
             and str(p["id_number"])[6:10] >= "1984"]
    for p in rng.sample(women, min(len(women), max(2, int(len(women) * MATERNITY_SHARE)))):
        number, month = str(p["id_number"]), rng.randint(1, 11)
        wages = p["wages_fen"]
        assert isinstance(wages, list)
        pay(number, "510", "生育医疗费", month, 10, rng.randint(300_000, 800_000), "SYB")
        pay(number, "510", "生育津贴", month + 1, 10, int(wages[-1]) * 98 // 30, "SYB")
    for p in rng.sample(people, max(2, int(len(people) * INJURED_SHARE))):
        number, month = str(p["id_number"]), rng.randint(1, 10)
        wages = p["wages_fen"]
        assert isinstance(wages, list)
        pay(number, "410", "工伤医疗费", month, 25, rng.randint(200_000, 3_000_000), "GS")
        if rng.random() < 0.35:  # months of wage by disability grade (工伤保险条例 第35-37条)
            pay(number, "410", "一次性伤残补助金", month + 2, 25,
                int(wages[-1]) * rng.choice((7, 9, 11)), "GS")
    for p in rng.sample(people, max(3, int(len(people) * MEDICAL_SHARE))):
        number = str(p["id_number"])
        for month in sorted(rng.sample(range(1, 13), rng.randint(1, 3))):
            pay(number, "310", "医疗费用结算", month, 28, rng.randint(50_000, 2_000_000), "YB")
    with tempfile.TemporaryDirectory(prefix="demo-benefits-") as folder:
        path = Path(folder) / f"待遇支付明细{year}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["支付日期", "险种代码", "待遇类别", "身份证号", "所属期", "金额",
                             "凭证号"])
            writer.writerows(rows)
        return import_benefit_payments(c, path, imported_by=DEMO_SOURCE).paid


def period_complete(year: int, year_periods: list[Period]) -> bool:
    return sum(1 for p in year_periods if p.year == year) == 12
