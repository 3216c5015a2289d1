"""Chinese text of bad-review comments: segmentation (jieba with a government-services user dictionary), the terms
the pain-point analysis counts, and redaction of contact details typed into comments.

jieba is loaded once per process (about a second) from its bundled dictionary — no network, no model download.
Its prefix-dictionary cache goes to a writable directory of ours (``HAOCHAPING_VAR_DIR/cache``, else the system
temp dir), never into the installed package; its chatty logger is turned down to warnings.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from functools import cache, lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
USER_DICT = DATA / "userdict.txt"
STOP_WORDS_FILE = DATA / "stopwords.txt"

# Single characters that do name a problem on their own ("太慢", "态度差", "收费贵"); other single characters
# (particles, measure words, punctuation) carry nothing once the comment is cut into words.
MEANINGFUL_SINGLE = frozenset("慢差乱贵难长久烦凶冷远挤吵脏累错")

# Contact details someone may type into a free-text comment: mobile numbers, landlines, ID numbers, e-mail.
_CONTACTS = re.compile(
    r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})(?![0-9])"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)
_SPACE = re.compile(r"\s+")
_CLAUSE = re.compile(r"[\s，。！？；：、,.!?;:…“”\"'（）()【】\[\]]+")
_WORD = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)

_lock = threading.Lock()


def _cache_dir() -> str:
    from django.conf import settings

    for base in (getattr(settings, "VAR_DIR", None), tempfile.gettempdir()):
        if base is None:
            continue
        path = Path(base) / "cache" / "jieba"
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(path, os.W_OK):
            return str(path)
    return tempfile.gettempdir()


def _read_lines(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@cache
def stop_words() -> frozenset[str]:
    return frozenset(_read_lines(STOP_WORDS_FILE))


class Segmenter:
    """jieba's tokenizer with our user dictionary, plus the parts of each dictionary compound.

    A compound such as "系统卡顿" stays one word (it names the problem best), and its parts ("系统", "卡顿")
    are counted beside it so that "系统很卡顿" and "系统卡顿" still look alike to the clustering. A dictionary
    line may also name related words after ">" ("排长队 v >排队"): variants of one problem then share a term."""

    def __init__(self) -> None:
        import jieba

        # jieba logs "Building prefix dict…" to stderr at DEBUG on first use.
        logging.getLogger("jieba").setLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = _cache_dir()
        tokenizer.initialize()
        related: dict[str, tuple[str, ...]] = {}
        for line in _read_lines(USER_DICT):
            word, *rest = line.split()
            tag = next((r for r in rest if not r.startswith(">")), None)
            related[word] = tuple(t for r in rest if r.startswith(">") for t in r[1:].split(",") if t)
            # No frequency: jieba suggests the smallest one that keeps the word whole.
            tokenizer.add_word(word, tag=tag)
        self._tokenizer = tokenizer
        self.user_words = frozenset(related)
        self._parts = {
            word: tuple(dict.fromkeys((*self._split(word), *related[word]))) for word in sorted(self.user_words)
        }

    def _split(self, word: str) -> tuple[str, ...]:
        # Cut the compound as if it were not a word itself (a zero frequency means "not a word" to jieba).
        freq = self._tokenizer.FREQ
        saved = freq.get(word)
        freq[word] = 0
        try:
            parts = tuple(p for p in self._tokenizer.lcut(word, HMM=False) if p != word)
        finally:
            if saved is None:
                freq.pop(word, None)
            else:
                freq[word] = saved
        # Only when every part means something on its own: "排长队" is not about a 排长.
        return parts if len(parts) > 1 and all(_keep(p) for p in parts) else ()

    def segment(self, text: str) -> list[str]:
        """The words of ``text`` (jieba's precise mode), whitespace and punctuation dropped."""
        return [w for w in self._tokenizer.lcut(_SPACE.sub(" ", text or "")) if _WORD.search(w)]

    def terms(self, text: str) -> list[str]:
        """What the analysis counts: words that carry meaning, each compound followed by its parts."""
        out: list[str] = []
        # jieba cuts each run between punctuation on its own, so clauses can be cut once and reused: comments
        # repeat the same clauses far more often than they repeat whole.
        for clause in _CLAUSE.split(text or ""):
            if clause:
                out.extend(self._clause_terms(clause))
        return out

    @lru_cache(maxsize=100_000)  # noqa: B019 - one segmenter per process, kept for its lifetime
    def _clause_terms(self, clause: str) -> tuple[str, ...]:
        out: list[str] = []
        for word in self.segment(clause):
            word = word.lower()
            if not _keep(word):
                continue
            out.append(word)
            out.extend(self._parts.get(word, ()))
        return tuple(out)


def _keep(word: str) -> bool:
    if word in stop_words() or word.isdigit():
        return False
    return len(word) > 1 or word in MEANINGFUL_SINGLE


_segmenter: Segmenter | None = None


def segmenter() -> Segmenter:
    """The process's segmenter, built on first use (thread-safe)."""
    global _segmenter
    if _segmenter is None:
        with _lock:
            if _segmenter is None:
                _segmenter = Segmenter()
    return _segmenter


def segment(text: str) -> list[str]:
    return segmenter().segment(text)


def terms(text: str) -> list[str]:
    return segmenter().terms(text)


def redact(text: str) -> str:
    """``text`` with phone numbers, ID numbers and e-mail addresses replaced, for showing comments as examples."""
    return _CONTACTS.sub("***", text or "")
