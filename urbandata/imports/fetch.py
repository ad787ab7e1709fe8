"""Fetching an import's source: HTTP(S) with conditional requests, size and time limits, content
sniffing; CKAN resources resolved through the Action API; files dropped into a watched folder."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from urbandata import __version__
from urbandata.ingest.pipeline import FORMATS

CHUNK = 1 << 16
MAX_REDIRECTS = 10
USER_AGENT = f"urbandata-import/{__version__}"
_CONTENT_TYPES = {
    "text/csv": ".csv",
    "application/csv": ".csv",
    "text/tab-separated-values": ".tsv",
    "application/json": ".json",
    "application/geo+json": ".geojson",
    "application/x-ndjson": ".ndjson",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.apache.parquet": ".parquet",
}


class FetchError(Exception):
    """The source could not be fetched; `retryable` failures (timeouts, 5xx, no connection) are tried again."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Fetched:
    path: Path | None  # None: the source answered 304 Not Modified
    url: str
    filename: str
    sha256: str | None = None
    size: int = 0
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None


def shown_url(url: str) -> str:
    """The URL as shown in run records, lineage and the API: without a user name and password."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("the run's time limit was reached", retryable=False)
    return left


def _client(deadline: float) -> httpx.Client:
    return httpx.Client(
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(_remaining(deadline)),
        headers={"User-Agent": USER_AGENT},
        trust_env=False,
    )


def _transport_error(exc: httpx.HTTPError | httpx.InvalidURL, url: str, deadline: float) -> FetchError:
    if isinstance(exc, httpx.TooManyRedirects):
        return FetchError(f"redirect loop: more than {MAX_REDIRECTS} redirects starting at {shown_url(url)}")
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(f"no answer from {shown_url(url)} in time ({type(exc).__name__})", retryable=True)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return FetchError(f"invalid address {shown_url(url)}")
    return FetchError(f"cannot reach {shown_url(url)}: {exc}", retryable=True)


def _status_error(response: httpx.Response, url: str) -> FetchError:
    code = response.status_code
    retryable = code >= 500 or code in (408, 429)
    return FetchError(f"HTTP {code} {response.reason_phrase} from {shown_url(url)}", retryable=retryable)


def fetch_url(
    url: str,
    work_dir: Path,
    *,
    deadline: float,
    max_bytes: int,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """GET `url` into a file in `work_dir` (conditional on `etag`/`last_modified`), hashing while reading.

    Reading stops at `max_bytes` and at the `deadline` (time.monotonic), also for a server that drips.
    """
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / f"fetch-{uuid.uuid4().hex}"
    try:
        with _client(deadline) as client, client.stream("GET", url, headers=headers) as response:
            final = str(response.url)
            if response.status_code == 304:
                return Fetched(path=None, url=final, filename="", etag=etag, last_modified=last_modified)
            if response.status_code >= 400:
                raise _status_error(response, url)
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"the source is {int(declared)} bytes, more than the limit of {max_bytes} bytes")
            digest, size = hashlib.sha256(), 0
            with target.open("wb") as fh:
                for chunk in response.iter_bytes(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(f"the source is larger than the limit of {max_bytes} bytes; stopped reading")
                    _remaining(deadline)
                    digest.update(chunk)
                    fh.write(chunk)
            content_type = response.headers.get("content-type")
            return Fetched(
                path=target,
                url=final,
                filename=file_name(final, response.headers.get("content-disposition"), content_type, target),
                sha256=digest.hexdigest(),
                size=size,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                content_type=content_type,
            )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        target.unlink(missing_ok=True)
        raise _transport_error(exc, url, deadline) from None
    except FetchError:
        target.unlink(missing_ok=True)
        raise


def resolve_ckan(base_url: str, dataset: str, resource: str, *, deadline: float) -> str:
    """The download URL of a resource in another CKAN catalog (Action API `package_show`)."""
    api = base_url.rstrip("/") + "/api/3/action/package_show"
    try:
        with _client(deadline) as client:
            response = client.get(api, params={"id": dataset})
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _transport_error(exc, api, deadline) from None
    if response.status_code == 404:
        raise FetchError(f"the catalog at {base_url} has no dataset {dataset!r}")
    if response.status_code >= 400:
        raise _status_error(response, api)
    try:
        body: Any = response.json()
    except ValueError:
        raise FetchError(f"{api} did not answer with CKAN Action API JSON") from None
    if not isinstance(body, dict) or not body.get("success") or not isinstance(body.get("result"), dict):
        message = body.get("error", {}).get("message") if isinstance(body, dict) else None
        raise FetchError(f"package_show for {dataset!r} failed at {base_url}: {message or 'no result'}")
    resources = [r for r in body["result"].get("resources", []) if isinstance(r, dict)]
    found = next((r for r in resources if resource in (r.get("id"), r.get("name"))), None)
    if found is None or not found.get("url"):
        names = ", ".join(str(r.get("name") or r.get("id")) for r in resources) or "none"
        raise FetchError(f"dataset {dataset!r} at {base_url} has no resource {resource!r} (it has: {names})")
    return str(found["url"])


def _sniffed_suffix(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(8).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PK\x03\x04"):
        return ".xlsx"
    if head.startswith(b"PAR1"):
        return ".parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return ".xls"
    if head[:1] in (b"{", b"["):
        return ".json"
    return ".csv"


def file_name(url: str, disposition: str | None, content_type: str | None, path: Path) -> str:
    """A file name whose extension tells the loader the format: from Content-Disposition, the URL path,
    the Content-Type or, failing those, the first bytes."""
    if disposition:
        m = re.search(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", disposition, re.IGNORECASE)
        if m and Path(unquote(m.group(1))).suffix.lower() in FORMATS:
            return Path(unquote(m.group(1))).name
    name = Path(unquote(urlsplit(url).path)).name
    if Path(name).suffix.lower() in FORMATS:
        return name
    stem = Path(name).stem or "download"
    suffix = _CONTENT_TYPES.get((content_type or "").split(";")[0].strip().lower())
    return stem + (suffix or _sniffed_suffix(path))


def content_problem(path: Path, content_type: str | None) -> str | None:
    """Why a fetched body is no data file (judged by its content, not only by the Content-Type), or None."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not text:
        return "the source sent an empty body"
    markers = (b"<!doctype html", b"<html", b"<head", b"<body")
    if text.startswith(markers) or (text.startswith(b"<") and any(m in text for m in markers)):
        return (
            f"the source sent an HTML page instead of data (Content-Type: {content_type or 'none'}); "
            "perhaps a login or error page"
        )
    return None


def pending_files(folder: Path) -> list[Path]:
    """Files waiting in a watched folder, oldest first (hidden and partial files are left alone)."""
    if not folder.is_dir():
        return []
    files = [
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".part", ".tmp", "~"))
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def move_to(path: Path, subfolder: str, stamp: str) -> Path:
    """Move a processed file into `done/` or `failed/` beside it (a name already there gets a time stamp)."""
    dest_dir = path.parent / subfolder
    dest_dir.mkdir(exist_ok=True)
    dest = dest_dir / path.name
    if dest.exists():
        dest = dest_dir / f"{path.stem}.{stamp}{path.suffix}"
    path.replace(dest)
    return dest
