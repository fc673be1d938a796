"""The targets file the annual report measures completion against: a path given by the caller
(`shebao report annual --targets FILE`), else the file named by SHEBAO_TARGETS_FILE, else the
shipped DEMO targets of the demo region (domain/report_data/annual_targets.toml). Read on every
report, so that a corrected file counts at once; a bad file is refused naming file, entry and
key (domain/annual_targets.py)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection
from importlib import resources
from pathlib import Path

from domain.annual_targets import Target, parse_targets
from domain.errors import ValidationFailed

TARGETS_FILE_VARIABLE = "SHEBAO_TARGETS_FILE"
SHIPPED_TARGETS = "report_data/annual_targets.toml"
TARGETS_FILE_BYTES_MAX = 1024 * 1024


def load_targets(path: Path | None, insurances: Collection[str]) -> tuple[list[Target], str]:
    """The targets and the label of the file they come from."""
    configured = os.environ.get(TARGETS_FILE_VARIABLE)
    if path is None and configured:
        path = Path(configured)
    if path is None:
        label = f"domain/{SHIPPED_TARGETS}"
        text = resources.files("domain").joinpath(SHIPPED_TARGETS).read_text(encoding="utf-8")
    else:
        label = str(path)
        try:
            if path.stat().st_size > TARGETS_FILE_BYTES_MAX:
                raise _refused(label, f"larger than {TARGETS_FILE_BYTES_MAX} bytes")
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise _refused(label, "no such file; give the path of a targets file (TOML)"
                           ) from None
        except UnicodeDecodeError as e:
            raise _refused(label, f"not UTF-8 text ({e.reason} at byte {e.start}); save it "
                                  "as UTF-8") from None
        except OSError as e:
            raise _refused(label, f"cannot be read: {e.strerror}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _refused(label, f"not valid TOML: {e}") from None
    return parse_targets(document, label, insurances), label


def _refused(label: str, message: str) -> ValidationFailed:
    return ValidationFailed("targets_invalid", f"{label}: {message}", field="targets")
