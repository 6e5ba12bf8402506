"""GET / and /static/*: the page rendered from the Document, its headers, escaping and size."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import pytest
import pytest_asyncio

from bot.channels.web import document_view
from bot.channels.webpage import PAGE_FILES, WebPage
from bot.core import Core
from bot.render.document import DocumentView
from tests.fakes.web_harness import ScriptedCore, Stack, running

ASSET_BUDGET = 60_000  # bytes: the page and its CSS, JavaScript and icon together, uncompressed


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text outside tags."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def ids(self) -> list[str]:
        return [str(a["id"]) for _, a in self.tags if a.get("id")]


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


class HostileExamples(ScriptedCore):
    """A core whose example questions are markup: the page must show them as text."""

    def examples(self) -> list[str]:
        return ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


@pytest.fixture(scope="module")
def view(core: Core) -> DocumentView:
    return document_view(core)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(view: DocumentView) -> AsyncIterator[Stack]:
    async with running(core=HostileExamples(), env={}, document=view) as stack:
        yield stack


@pytest.mark.asyncio(loop_scope="module")
async def test_every_paragraph_has_its_citation_id(site: Stack, core: Core) -> None:
    reply = await site.get("/")
    assert reply.status_code == 200 and reply.headers["content-type"] == "text/html; charset=utf-8"
    ids = parse(reply.text).ids()
    chunk_ids = [c.id for c in core.document.chunks]  # META is the document data block
    assert set(chunk_ids) <= set(ids)
    assert len(ids) == len(set(ids))
    assert ids.index("PP1") < ids.index("PP8") < ids.index("PP8(a)") < ids.index("PP9") < ids.index("OP1")
    assert ids.index("OP22") < ids.index("FN1")


@pytest.mark.asyncio(loop_scope="module")
async def test_the_document_reads_without_javascript(site: Stack, core: Core) -> None:
    html = (await site.get("/")).text
    page = parse(html)
    text = re.sub(r"\s+", " ", "".join(parse(re.sub(r"<sup>.*?</sup>", "", html)).text))  # without note markers
    for chunk in core.document.chunks:
        if chunk.kind in ("operative", "subitem", "footnote"):
            assert chunk.text in text, chunk.id
    assert "Further recalls its decision to designate 30 July as the World Day" in text
    assert "Venezuela (Bolivarian Republic of)" in text
    links = {a.get("href") for tag, a in page.tags if tag == "a"}
    assert {"#FN1", "#PP4", "#OP1", "https://undocs.org/A/RES/64/293", "https://undocs.org/E/2002/68/Add.1"} <= links
    assert "#PP8(c)" in links  # each paragraph links to itself (a link to copy)


@pytest.mark.asyncio(loop_scope="module")
async def test_no_inline_script_or_style_and_values_escaped(site: Stack) -> None:
    html = (await site.get("/")).text
    page = parse(html)
    scripts = [a for tag, a in page.tags if tag == "script"]
    assert scripts and all(a.get("src", "").startswith("/static/") for a in scripts)  # type: ignore[union-attr]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not any(name.startswith("on") for _, a in page.tags for name in a)
    assert not any(tag == "style" or "style" in a for tag, a in page.tags)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '"><img' not in html and not any(tag == "img" for tag, _ in page.tags)
    assert "<script>alert(1)</script>" in "".join(page.text)  # shown, as text


@pytest.mark.asyncio(loop_scope="module")
async def test_security_headers(site: Stack) -> None:
    for path in ("/", "/static/page.js", "/static/page.css", "/static/icon.svg"):
        headers = (await site.get(path)).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"


@pytest.mark.asyncio(loop_scope="module")
async def test_assets_are_typed_cached_and_gzipped(site: Stack) -> None:
    types = {"/static/page.js": "text/javascript; charset=utf-8", "/static/page.css": "text/css; charset=utf-8",
             "/static/icon.svg": "image/svg+xml"}
    for path, media in types.items():
        plain = await site.get(path, headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200 and plain.headers["content-type"] == media
        assert plain.content == (PAGE_FILES / path.rsplit("/", 1)[1]).read_bytes()
        again = await site.get(path, headers={"If-None-Match": plain.headers["etag"]})
        assert again.status_code == 304
    packed = await site.client.get(site.server.url + "/", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and "<main" in packed.text
    html = await site.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in html.headers and html.headers["vary"] == "Accept-Encoding"
    assert len(gzip.compress(html.content)) < len(html.content) / 3
    page = parse(html.text)
    versioned = [a.get("src") or a.get("href") for tag, a in page.tags if tag in ("script", "link")]
    assert all(re.fullmatch(r"/static/[a-z.]+\?v=[0-9a-f]{10}", str(v)) for v in versioned)


@pytest.mark.asyncio(loop_scope="module")
async def test_head_and_wrong_methods(site: Stack) -> None:
    head = await site.client.head(site.server.url + "/")
    assert head.status_code == 200 and head.content == b""
    post = await site.post("/")
    assert post.status_code == 405 and post.json()["error"] == "method not allowed"
    assert (await site.get("/static/nothing.js")).status_code == 404


def test_the_page_and_its_assets_stay_under_60_kB(view: DocumentView) -> None:
    sizes = WebPage(view, ["when is World Day?"] * 4, 1000, chat=True).sizes()
    assert set(sizes) == {"/", "/static/page.css", "/static/page.js", "/static/icon.svg"}
    assert sum(plain for plain, _ in sizes.values()) < ASSET_BUDGET


def test_without_the_api_the_page_says_the_chat_is_off(view: DocumentView) -> None:
    page = WebPage(view, [], 1000, chat=False)
    html = page._page.body.decode()
    assert 'id="ask"' not in html and "The chat is switched off" in html and 'id="OP5"' in html


async def test_no_page_without_a_document_but_the_api_answers() -> None:
    async with running(env={}) as st:
        assert (await st.get("/")).status_code == 404
        reply = await st.post("/api/ask", content=b'{"question": "hi"}', headers={"Content-Type": "application/json"})
        assert reply.status_code == 200
