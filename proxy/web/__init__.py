"""The HTTP layer: routes, middleware and response helpers (aiohttp)."""
