"""The WeChat Official Account channel: protocol (signatures, XML, safe-mode AES, paging; pure)
and server (the aiohttp webhook around Service)."""
