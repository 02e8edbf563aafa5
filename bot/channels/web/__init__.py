"""The web channel: a chat page and a JSON API over the same Service (aiohttp)."""
