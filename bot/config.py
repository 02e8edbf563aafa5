"""Settings: one frozen object, built from ESSAYBOT_* environment variables in one place."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from index.errors import EssayBotError

PREFIX = "ESSAYBOT_"
TOKEN_FORMAT = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("data/index")
    state_path: Path = Path("data/state.db")
    cache_dir: Path = Path("data/cache")  # the default embedder's parsed tokenizer
    embedder: str | None = None  # None: whatever the index was built with
    reranker: str | None = None  # st:NAME: a CrossEncoder re-scoring the top passages (off)
    reranker_top: int = 20  # passages the reranker re-scores per question
    max_question_chars: int = 2000
    max_essay_bytes: int = 2_000_000  # a larger essay file is refused by the build
    state_ttl_seconds: int = 24 * 3600
    telegram_token: str | None = field(default=None, repr=False)
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_secret: str | None = field(default=None, repr=False)
    admin_ids: frozenset[int] = frozenset()
    rate_limit_per_minute: int = 20
    wechat_token: str | None = field(default=None, repr=False)
    wechat_appid: str | None = None
    wechat_aes_key: str | None = field(default=None, repr=False)
    wechat_budget_seconds: float = 4.0  # WeChat gives up after 5 s
    wechat_compatible: bool = False
    web_host: str = "127.0.0.1"
    web_port: int = 8080  # compatible mode: safe mode that also accepts plaintext

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given fields replaced; None values (flags not given) are ignored."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_PARSERS: dict[str, Callable[[str], Any]] = {
    "corpus_dir": Path,
    "index_dir": Path,
    "state_path": Path,
    "cache_dir": Path,
    "max_question_chars": int,
    "max_essay_bytes": int,
    "state_ttl_seconds": int,
    "rate_limit_per_minute": int,
    "reranker_top": int,
    "web_port": int,
    "wechat_budget_seconds": float,
    "wechat_compatible": lambda raw: raw.strip().lower() in ("1", "true", "yes", "on"),
}


def _admin_ids(raw: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in raw.replace(" ", "").split(",") if part)
    except ValueError as exc:
        raise EssayBotError(
            f"{PREFIX}ADMIN_IDS must be comma-separated Telegram user ids, got {raw!r}"
        ) from exc


def _parse(name: str, raw: str) -> Any:
    if name == "admin_ids":
        return _admin_ids(raw)
    try:
        return _PARSERS.get(name, str)(raw)
    except ValueError as exc:
        raise EssayBotError(f"{PREFIX}{name.upper()} must be a number, got {raw!r}") from exc


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ESSAYBOT_<FIELD> variables; unset or empty ones keep their defaults."""
    env = os.environ if environ is None else environ
    values = {}
    for name in Settings.__dataclass_fields__:
        raw = env.get(PREFIX + name.upper(), "").strip()
        if raw:
            values[name] = _parse(name, raw)
    return Settings(**values)


# ---------- secrets: checked here, never printed ----------


class TelegramConfigError(EssayBotError):
    """The Telegram token or webhook settings cannot be used."""


class WeChatConfigError(EssayBotError):
    """The WeChat token or safe-mode settings cannot be used."""


def check_token(token: str | None) -> str:
    """The token, or an error naming the fix (the token itself is never echoed)."""
    if not token:
        raise TelegramConfigError(
            "ESSAYBOT_TELEGRAM_TOKEN is not set. Create a bot with @BotFather and run: "
            "export ESSAYBOT_TELEGRAM_TOKEN=<the token it gives you>"
        )
    if not TOKEN_FORMAT.fullmatch(token.strip()):
        raise TelegramConfigError(
            "ESSAYBOT_TELEGRAM_TOKEN does not look like a bot token (digits, a colon, then "
            "letters, e.g. 123456:ABC-DEF...). Copy it again from @BotFather."
        )
    return token.strip()


def check_secret(secret: str | None) -> str:
    """The webhook secret token, or a fresh random one when none is configured."""
    if secret is None:
        return secrets.token_urlsafe(32)
    if not SECRET_FORMAT.fullmatch(secret):
        raise TelegramConfigError(
            "ESSAYBOT_TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - "
            "(1-256 characters)."
        )
    return secret


def check_wechat(token: str | None, aes_key: str | None, appid: str | None) -> str:
    """The WeChat token, or WeChatConfigError naming what is missing; safe mode needs the
    AES key and the AppID together."""
    if not token:
        raise WeChatConfigError(
            "Set ESSAYBOT_WECHAT_TOKEN to the Token entered in the Official Account console "
            "(设置与开发 → 基本配置 → 服务器配置)"
        )
    if bool(aes_key) != bool(appid):
        raise WeChatConfigError(
            "Safe mode needs both ESSAYBOT_WECHAT_AES_KEY and ESSAYBOT_WECHAT_APPID (or neither)"
        )
    return token
