"""What the page and its API send besides their bodies: security headers, and files held in memory
with an ETag and a gzip form."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
PAGE_HEADERS = {**COMMON_HEADERS, "Content-Security-Policy": PAGE_CSP}
API_HEADERS = {**COMMON_HEADERS, "Content-Security-Policy": API_CSP}


def small_gzip(body: bytes) -> bytes:
    """``body`` in gzip format, compressed with a 4 kB window and small tables.

    zlib's defaults allocate about 256 kB at once; freeing that at the top of the heap lets the
    C allocator trim it, and every later request paid about 2% more instructions (callgrind,
    benchmarks/instructions.py). With these settings nothing larger than about 8 kB is allocated.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + 12, 2)  # gzip wrapper, 2**12-byte window, memLevel 2
    return packer.compress(body) + packer.flush()


@dataclass(frozen=True, slots=True)
class Asset:
    """One file served from memory, with its media type, its gzip form and a content hash."""

    body: bytes
    media_type: str
    digest: str
    gzipped: bytes

    @classmethod
    def of(cls, body: bytes, media_type: str) -> Asset:
        """An asset hashed and compressed once."""
        return cls(body, media_type, hashlib.sha256(body).hexdigest()[:20], small_gzip(body))

    @property
    def version(self) -> str:
        """A short content hash for cache-busting URLs."""
        return self.digest[:10]


def cached_response(request: Request, asset: Asset, cache_control: str, headers: dict[str, str]) -> Response:
    """``asset`` (gzipped when the client accepts it) with an ETag, or 304 when the client holds this version."""
    packed = "gzip" in request.headers.get("accept-encoding", "") and len(asset.gzipped) < len(asset.body)
    head = {**headers, "ETag": f'"{asset.digest}{"-gz" if packed else ""}"', "Cache-Control": cache_control,
            "Vary": "Accept-Encoding"}
    if asset.digest in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=head)
    if packed:
        head["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=head)
    return Response(asset.body, media_type=asset.media_type, headers=head)
