"""Settings, read once from the environment. With none set, everything runs on SQLite files
under ./data/<region>/; SHEBAO_PG_DSN switches the store to PostgreSQL (schema region_<code>)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_REGION_CODE = "440781"  # the reference city of ../shared/reference (a county-level city)


@dataclass(frozen=True)
class Settings:
    region_code: str = DEFAULT_REGION_CODE
    data_dir: Path = field(default_factory=lambda: Path("data"))
    pg_dsn: str | None = None
    cipher_key: str | None = None  # AES key (base64) for encryption of event payloads at rest
    blob_root: Path | None = None  # where case materials are kept; default <region dir>/blobs
    signing_key: Path | None = None  # the bureau's Ed25519 private key (PEM) to sign digests
    verify_key: str | None = None  # the public key (base64) digests must be signed with
    public_url: str | None = None  # the API's address as printed on statements (QR code)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{6}", self.region_code):
            raise ValueError(
                f"SHEBAO_REGION must be a 6-digit administrative region code, got "
                f"{self.region_code!r} (e.g. 440781)"
            )

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "region_code": os.environ.get("SHEBAO_REGION", DEFAULT_REGION_CODE),
            "data_dir": Path(os.environ.get("SHEBAO_DATA_DIR", "data")),
            "pg_dsn": os.environ.get("SHEBAO_PG_DSN") or None,
            "cipher_key": os.environ.get("SHEBAO_CIPHER_KEY") or None,
            "blob_root": Path(os.environ["SHEBAO_BLOB_DIR"]) if os.environ.get(
                "SHEBAO_BLOB_DIR") else None,
            "signing_key": Path(os.environ["SHEBAO_SIGNING_KEY"]) if os.environ.get(
                "SHEBAO_SIGNING_KEY") else None,
            "verify_key": os.environ.get("SHEBAO_VERIFY_KEY") or None,
            "public_url": os.environ.get("SHEBAO_PUBLIC_URL") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def backend(self) -> str:
        return "postgres" if self.pg_dsn else "sqlite"

    @property
    def region_dir(self) -> Path:
        return self.data_dir / self.region_code

    @property
    def pg_schema(self) -> str:
        return f"region_{self.region_code}"

    @property
    def sqlite_events_path(self) -> Path:
        return self.region_dir / "ledger.db"

    @property
    def sqlite_views_path(self) -> Path:
        return self.region_dir / "views.db"

    @property
    def blob_dir(self) -> Path:
        return self.blob_root or self.region_dir / "blobs"

    def describe(self) -> str:
        if self.pg_dsn:
            from psycopg.conninfo import conninfo_to_dict

            info = conninfo_to_dict(self.pg_dsn)
            return (f"PostgreSQL {info.get('host', 'localhost')}/{info.get('dbname', '')} "
                    f"schema {self.pg_schema}")
        return f"SQLite {self.region_dir}"
