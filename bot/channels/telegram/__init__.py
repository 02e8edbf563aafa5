"""The Telegram channel: handlers (updates to Service calls), limits (per-chat rate and
request retries) and app (the python-telegram-bot Application, polling, webhook)."""
