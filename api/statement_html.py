"""The personal rights statement as an HTML page (api/templates/statement.html): the same
content as the PDF, each figure a link to the trace of the events behind it — the person's
pension account (GET /v1/trace) over the ledger days those events were recorded on, or the
person's history (GET /v1/persons/{id_number}/trace) for what is not on the account. Nothing is
loaded from elsewhere (no CDN, no script)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from domain.policy import PENSION
from domain.statement import Statement, Trace
from infra import statement_labels as labels

TEMPLATES = Path(__file__).parent / "templates"
API_PREFIX = "/v1"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def account_trace_url(person_id: str, insurance: str, trace: Trace,
                      prefix: str = API_PREFIX) -> str:
    return f"{prefix}/trace?" + urlencode({"account": f"personal:{person_id}:{insurance}",
                                     "from": trace.first_day or "", "to": trace.last_day or ""})


def person_trace_url(id_number: str, prefix: str = API_PREFIX) -> str:
    return f"{prefix}/persons/{quote(id_number)}/trace"


def render_html(statement: Statement, content_hash: str, verification_code: str,
                verify_url: str, *, masked: bool = False, link_prefix: str = API_PREFIX) -> str:
    """`masked`: the person's ID number in the statement is masked, so no link can name it.
    `link_prefix`: where the trace links go — the API (/v1), or the web console (/console),
    whose pages serve the same traces to a signed-in browser."""
    person_id = statement.registration.person_id
    id_number = statement.registration.id_number

    def person_link(trace: Trace) -> str:
        return "#" if masked else person_trace_url(id_number, link_prefix)

    def account_link(insurance: str, trace: Trace) -> str:
        return account_trace_url(person_id, insurance, trace, link_prefix)

    def insurance_link(insurance: str, trace: Trace) -> str:
        # The pension's months credit the personal account: its trace shows them; the other
        # insurances go to pooled funds, shared by everyone: the person's history shows them.
        if insurance == PENSION and trace.positions:
            return account_link(insurance, trace)
        return person_link(trace)

    return _environment().get_template("statement.html").render(
        s=statement, content_hash=content_hash, code=verification_code, verify_url=verify_url,
        labels=labels, yuan=labels.yuan, rate_percent=labels.rate_percent,
        cst_time=labels.cst_time, benefit_name=labels.benefit_name,
        pension_months_text=labels.pension_months_text,
        pension_months_lines=labels.pension_months_lines, transfer_text=labels.transfer_text,
        adjustment_text=labels.adjustment_text, person_link=person_link,
        account_link=account_link, insurance_link=insurance_link)
