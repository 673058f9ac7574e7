"""The ``[auth]`` settings section and its users table.

Read by every other module of the plugin; documented in ``docs/settings.md`` (``[auth]``).
Validation here turns a mistyped hash or role into one clear startup error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from modserver.settings import PluginSettings
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

Role = Literal["owner", "editor", "viewer"]

#: Usernames appear in cookies, logs and collaboration cursors: keep them plain.
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")

#: The user a server token or the ``auth.password_hash`` logs in as.
OWNER = "owner"


class UserEntry(BaseModel):
    """One row of ``[auth.users.<username>]``: a credential, a role and display fields."""

    model_config = ConfigDict(extra="forbid")

    role: Role = "viewer"
    password_hash: str | None = Field(None, description="argon2 hash from `modserver password`.")
    token_hash: str | None = Field(None, description="sha256:<hex> of the user's token.")
    name: str = ""
    display_name: str = ""
    initials: str | None = None
    avatar_url: str | None = None
    color: str | None = None

    @field_validator("password_hash")
    @classmethod
    def _argon2_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("$argon2"):
            raise ValueError("must be an argon2 hash ($argon2id$...); make one: modserver password")
        return value

    @field_validator("token_hash")
    @classmethod
    def _sha256_token(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"sha256:[0-9a-f]{64}", value):
            raise ValueError("must be sha256:<64 hex digits>; make one: modserver password --token")
        return value

    @model_serializer(mode="wrap")
    def _without_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # TOML has no null: `modserver config show` prints the table without unset fields.
        return {k: v for k, v in handler(self).items() if v is not None}

    @model_validator(mode="after")
    def _has_credential(self) -> UserEntry:
        if self.password_hash is None and self.token_hash is None:
            raise ValueError("a user needs password_hash or token_hash (or both)")
        return self


class AuthSettings(PluginSettings):
    """Settings of the ``[auth]`` section."""

    mode: Literal["token", "none"] = Field(
        "token", description="'token': every route needs credentials; 'none': no auth (loopback)."
    )
    # A SecretStr, so `modserver config show` and reprs print stars, never the token.
    token: SecretStr | None = Field(
        None, description="The owner's token (else MODSERVER_TOKEN...)."
    )
    token_file: Path | None = Field(None, description="Read the owner's token from this file.")
    password_hash: str | None = Field(None, description="argon2 hash of the owner's password.")
    users: dict[str, UserEntry] = Field(default_factory=dict, description="Further users.")
    cookie_secret_file: Path | None = Field(
        None, description="Where the cookie signing secret lives (default: runtime_dir)."
    )
    cookie_max_age_days: float = Field(30.0, gt=0, description="Login cookie lifetime.")
    allow_origin: str = Field("", description="Origin allowed cross-origin, or '*'.")
    allow_origin_pat: str = Field("", description="Regex of allowed origins (fully anchored).")
    allow_credentials: bool = Field(False, description="CORS: allow cookies cross-origin.")
    allow_remote_access: bool | None = Field(
        None, description="Accept any Host header (default: only when not bound to loopback)."
    )
    local_hostnames: list[str] = Field(
        default_factory=lambda: ["localhost"], description="Host names treated as local."
    )
    login_attempts: int = Field(5, ge=1, description="Failed logins per client per window.")
    login_window_seconds: float = Field(60.0, gt=0, description="Throttling window.")

    @field_validator("token")
    @classmethod
    def _non_empty_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is empty; to turn authentication off set auth.mode = 'none'")
        return value

    @field_validator("password_hash")
    @classmethod
    def _argon2_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("$argon2"):
            raise ValueError("must be an argon2 hash ($argon2id$...); make one: modserver password")
        return value

    @field_validator("allow_origin_pat")
    @classmethod
    def _valid_pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"is not a valid regular expression: {exc}") from None
        return value

    @field_validator("users")
    @classmethod
    def _valid_usernames(cls, value: dict[str, UserEntry]) -> dict[str, UserEntry]:
        for username in value:
            if not USERNAME.fullmatch(username):
                raise ValueError(
                    f"user name {username!r}: use letters, digits, '.', '_', '@' or '-'"
                )
            if username == OWNER:
                raise ValueError(
                    f"user name {OWNER!r} is reserved for the server token and auth.password_hash"
                )
        return value
