"""Settings from environment variables, with embedded defaults (SQLite, in-process cache/broker)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "mercato-dev-only-jwt-secret-change-me"
# registration order = order of the OpenAPI tags and explorer sections (the seed instance's order)
DEFAULT_MODULES = (
    "auth,directory,api_docs,audit_logs,notifications,events,customers,feature_toggles,warehouse,"
    "entities,configs,dashboards,dictionaries,query_index,progress"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(default="sqlite+aiosqlite:///./data/mercato.db", alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    environment: str = Field(default="development", alias="OM_ENV")
    demo_mode: bool = Field(default=True, alias="DEMO_MODE")
    jwt_secret: str | None = Field(default=None, alias="JWT_SECRET")
    jwt_staff_secret: str | None = Field(default=None, alias="JWT_STAFF_SECRET")
    auth_token_secret: str | None = Field(default=None, alias="AUTH_TOKEN_SECRET")
    remember_me_days: int = Field(default=30, alias="REMEMBER_ME_DAYS")
    app_url: str = Field(default="http://localhost:3000", alias="APP_URL")
    api_base_url: str | None = Field(default=None, alias="NEXT_PUBLIC_API_BASE_URL")
    version: str | None = Field(default=None, alias="OM_VERSION")
    enabled_modules: str = Field(default=DEFAULT_MODULES, alias="OM_MODULES")
    encryption_master_key: str | None = Field(default=None, alias="OM_ENCRYPTION_KEY")
    init_superadmin_email: str = Field(default="superadmin@acme.com", alias="OM_INIT_SUPERADMIN_EMAIL")
    init_superadmin_password: str = Field(default="secret", alias="OM_INIT_SUPERADMIN_PASSWORD")
    smtp_host: str | None = Field(default=None, alias="SMTP_HOST")
    smtp_port: int = Field(default=587, alias="SMTP_PORT")
    smtp_user: str | None = Field(default=None, alias="SMTP_USER")
    smtp_password: str | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_from: str = Field(default="no-reply@mercato.local", alias="SMTP_FROM")
    trust_proxy: bool = Field(default=False, alias="OM_TRUST_PROXY")  # read client IPs from X-Forwarded-For
    rate_limit_enabled: bool = Field(default=True, alias="RATE_LIMIT_ENABLED")
    sql_echo: bool = Field(default=False, alias="OM_SQL_ECHO")
    log_level: str = Field(default="info", alias="LOG_LEVEL")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def module_ids(self) -> list[str]:
        return [m.strip() for m in self.enabled_modules.split(",") if m.strip()]

    @property
    def effective_jwt_secret(self) -> str:
        if self.jwt_secret:
            return self.jwt_secret
        if self.is_production and not self.demo_mode:
            raise RuntimeError("JWT_SECRET is required outside demo mode")
        return DEV_JWT_SECRET

    @property
    def public_api_url(self) -> str:
        """Base URL of the API as shown in docs: NEXT_PUBLIC_API_BASE_URL verbatim, else APP_URL + /api."""
        if self.api_base_url:
            return self.api_base_url
        base = self.app_url.rstrip("/")
        return base if base.endswith("/api") else base + "/api"

    @property
    def app_version(self) -> str:
        from mercato import __version__

        return self.version or __version__

    def ensure_data_dir(self) -> None:
        if self.is_sqlite and ":memory:" not in self.database_url:
            path = self.database_url.split("///", 1)[-1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)


@lru_cache
def get_settings() -> Settings:
    return Settings()
