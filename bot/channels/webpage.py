"""The web page at ``/``: the resolution beside a chat, rendered once at start, with its static files.

Nothing here depends on a request but the ETag check: the page and its three assets are bytes in
memory, served with a strict Content-Security-Policy (no inline script) and the other security headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.channels.webassets import PAGE_HEADERS, Asset, cached_response
from bot.render.document import DocumentView

PAGE_FILES = Path(__file__).with_name("page")
ASSET_TYPES = {"page.css": "text/css; charset=utf-8", "page.js": "text/javascript; charset=utf-8",
               "icon.svg": "image/svg+xml"}


def load_assets(folder: Path = PAGE_FILES) -> dict[str, Asset]:
    """The page's CSS, JavaScript and icon, read once."""
    return {name: Asset.of((folder / name).read_bytes(), kind) for name, kind in ASSET_TYPES.items()}


def render_page(view: DocumentView, assets: dict[str, Asset], examples: Sequence[str], max_chars: int,
                chat: bool, folder: Path = PAGE_FILES) -> str:
    """The whole page as HTML: every value escaped by Jinja2's autoescaping."""
    import jinja2  # only `resbot serve` with the page on pays for the import

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=False)
    template = env.get_template("page.html")
    return template.render(meta=view.document.meta, preamble=view.preamble, operative=view.operative,
                           footnotes=view.footnotes, examples=list(examples), max_chars=max_chars, chat=chat,
                           versions={name: asset.version for name, asset in assets.items()})


class WebPage:
    """GET / and GET /static/{page.css,page.js,icon.svg}."""

    def __init__(self, view: DocumentView, examples: Sequence[str], max_chars: int, chat: bool) -> None:
        self._assets = load_assets()
        html = render_page(view, self._assets, examples, max_chars, chat)
        self._page = Asset.of(html.encode("utf-8"), "text/html; charset=utf-8")

    def sizes(self) -> dict[str, tuple[int, int]]:
        """Bytes of the page and of each asset: (plain, gzipped)."""
        files = {"/": self._page, **{f"/static/{name}": asset for name, asset in self._assets.items()}}
        return {path: (len(a.body), len(a.gzipped)) for path, a in files.items()}

    async def page(self, request: Request) -> Response:
        """GET /: the page (the same bytes for every visitor; ?q= and #OP5 are read by the script)."""
        return cached_response(request, self._page, "no-cache", PAGE_HEADERS)

    def routes(self) -> list[BaseRoute]:
        """The page's routes, one per file so each path is counted apart in the metrics."""
        routes: list[BaseRoute] = [Route("/", self.page, methods=["GET"])]
        for name, asset in self._assets.items():
            routes.append(Route(f"/static/{name}", self._static(asset), methods=["GET"]))
        return routes

    @staticmethod
    def _static(asset: Asset) -> Callable[[Request], Awaitable[Response]]:
        """An endpoint serving one asset; its URL carries a version, so browsers may keep it a day."""

        async def endpoint(request: Request) -> Response:
            return cached_response(request, asset, "public, max-age=86400", PAGE_HEADERS)

        return endpoint
