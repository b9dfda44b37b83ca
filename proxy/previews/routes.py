"""Routes under /previews/ (filled in by the previews feature)."""

from aiohttp import web

from proxy.web.services import Services


def setup(app: web.Application, svc: Services) -> None:
    """Register the preview routes and their services on the app."""
