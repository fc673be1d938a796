"""The console refuses in Chinese: every error code that the code the console calls can raise
has a Chinese text in api/console/messages.py. The codes are found by reading the sources (the
first argument of a DomainError, the second of an ApiProblem, when it is a literal) of:

- the console's own modules, the project modules they import, and the modules of the
  container's services they use (`container.ledger` … → infra/ledger_service.py);
- the domain modules those import (a service's refusals are often its aggregate's).

This reaches further than the pages of today (a module the console imports may raise a code on
a command that has no form yet): such codes get their text too, before a page shows them."""

from __future__ import annotations

import ast
import importlib.util
import re
import typing
from functools import cache
from pathlib import Path

import domain.errors
from api.console.messages import ERROR_ZH, error_text
from infra.bootstrap import Container

PROJECT_PACKAGES = ("domain", "infra", "api")
ROOT = Path(__file__).resolve().parents[2]
DOMAIN_ERRORS = frozenset(name for name, value in vars(domain.errors).items() if
                          isinstance(value, type) and issubclass(value, domain.errors.DomainError))
API_PROBLEM = "ApiProblem"  # api/errors.py: ApiProblem(status, code, detail, …)
# Codes composed with an f-string (domain/case.py `_reason`, domain/alert.py `_text`,
# domain/suspense.py `_required` from the field at fault; domain/backpay.py from the status):
# the walk reads only the template, so the codes are listed here with the values passed.
COMPOSED_CODES = {
    "{field}_missing": {"reason_missing", "resolution_missing", "decided_by_missing",
                        "reference_missing"},
    "{field}_too_long": {"reason_too_long", "note_too_long", "resolution_too_long"},
    "{field}_malformed": {"note_malformed", "resolution_malformed"},
    "backpay_{self.status}": {"backpay_collected", "backpay_cancelled"},
}
CJK = re.compile(r"[\u4e00-\u9fff]")
SERVICE_USE = re.compile(r"container(?:_of\(request\))?\.(\w+)")


@cache
def source_of(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    return Path(spec.origin).read_text(encoding="utf-8")


def project_imports(module: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source_of(module))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {n for n in names if n.split(".")[0] in PROJECT_PACKAGES}
    return found


def console_reach() -> set[str]:
    console = {f"api.console.{p.stem}" for p in (ROOT / "api" / "console").glob("*.py")}
    services = typing.get_type_hints(Container)
    reached = set(console)
    for module in console:
        reached |= project_imports(module)
        reached |= {services[name].__module__ for name in SERVICE_USE.findall(source_of(module))
                    if name in services}
    return reached | {imported for module in reached for imported in project_imports(module)
                      if imported.startswith("domain.")}


def raised_codes(module: str) -> set[str]:
    """Literal codes, and the templates of codes composed with an f-string (`{field}_missing`)."""
    codes: set[str] = set()
    for node in ast.walk(ast.parse(source_of(module))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        position = 0 if name in DOMAIN_ERRORS else 1 if name == API_PROBLEM else None
        if position is None or len(node.args) <= position:
            continue
        code = node.args[position]
        if isinstance(code, ast.Constant) and isinstance(code.value, str):
            codes.add(code.value)
        elif isinstance(code, ast.JoinedStr):
            codes.add("".join("{" + ast.unparse(part.value) + "}"
                              if isinstance(part, ast.FormattedValue) else str(part.value)
                              for part in code.values if isinstance(part, (ast.Constant,
                                                                           ast.FormattedValue))))
    return codes


def with_composed(codes: set[str]) -> set[str]:
    """Templates replaced by the codes they make; an unknown template fails the test."""
    unknown = {c for c in codes if "{" in c and c not in COMPOSED_CODES}
    assert not unknown, f"list the codes of {sorted(unknown)} in COMPOSED_CODES"
    return set().union(*(COMPOSED_CODES.get(c, {c}) for c in codes))


def project_modules() -> list[str]:
    return [".".join(path.relative_to(ROOT).with_suffix("").parts)
            for package in PROJECT_PACKAGES for path in (ROOT / package).rglob("*.py")
            if path.name != "__init__.py"]


def test_every_code_the_console_can_meet_has_a_chinese_text() -> None:
    missing = {f"{code} ({module})" for module in console_reach()
               for code in with_composed(raised_codes(module)) if code not in ERROR_ZH}
    assert not missing, f"add a Chinese text to api/console/messages.py for: {sorted(missing)}"


def test_the_walk_reaches_the_services_behind_the_pages() -> None:
    """The walk is not vacuous: it finds refusals of case sign-off (domain/case.py, through
    infra/case_service.py), of alerts, of the container's ledger, of the downloads."""
    reached = console_reach()
    assert {"domain.case", "infra.case_service", "infra.ledger_service", "domain.alert",
            "infra.blob_store", "api.access"} <= reached
    codes = with_composed(set().union(*(raised_codes(m) for m in reached)))
    assert {"maker_cannot_sign", "resolution_missing", "alert_about_actor", "person_not_registered",
            "material_type_not_accepted", "material_corrupted", "access_note_missing"} <= codes


def test_every_text_is_chinese_and_names_its_code() -> None:
    for code, text in ERROR_ZH.items():
        assert CJK.search(text), code
        assert error_text(code, "English detail") == f"{text}（{code}）"


def test_an_unknown_code_still_gets_a_chinese_sentence_with_the_code_and_the_detail() -> None:
    shown = error_text("code_nobody_knows", "what the domain said")
    assert CJK.match(shown) and "code_nobody_knows" in shown and "what the domain said" in shown


def test_no_text_is_kept_for_a_code_nothing_raises() -> None:
    raised = with_composed(set().union(*(raised_codes(m) for m in project_modules())))
    assert set(ERROR_ZH) - raised == set()
