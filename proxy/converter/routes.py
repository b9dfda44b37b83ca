"""Routes under /image-converter/ (filled in by the converter feature)."""

from aiohttp import web

from proxy.web.services import Services


def setup(app: web.Application, svc: Services) -> None:
    """Register the converter routes, and the converter in svc.extras["converter"]."""
