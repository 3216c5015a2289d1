"""Reading and writing the stored subtree hashes (LogTile) of the log. No business rules: rules.py has the tree."""

from __future__ import annotations

from . import rules
from .models import LogTile

HASH = 32
TILE_BYTES = rules.TILE_WIDTH * HASH


class TileReader:
    """``entry(level, index)`` for rules.tiled_subtree: one query per tile touched, cached for this reader's life
    (one request, one seal). A proof at 10^6 leaves touches a handful of tiles."""

    def __init__(self) -> None:
        self._tiles: dict[tuple[int, int], bytes] = {}

    def entry(self, level: int, index: int) -> bytes:
        key = (level, index // rules.TILE_WIDTH)
        tile = self._tiles.get(key)
        if tile is None:
            tile = bytes(LogTile.objects.filter(level=key[0], index=key[1]).values_list("hashes", flat=True).first() or b"")
            self._tiles[key] = tile
        offset = (index % rules.TILE_WIDTH) * HASH
        value = tile[offset:offset + HASH]
        if len(value) != HASH:
            raise LookupError(f"tile {key} has no entry {index}")
        return value

    def subtree(self) -> rules.Subtree:
        return rules.tiled_subtree(self.entry)


class TileWriter:
    """Appends leaf hashes to the level-0 tiles; each tile that fills becomes one hash appended a level up (the
    root of its perfect subtree). ``flush()`` writes what changed: new tiles in bulk, the partly filled tile each
    level already had (the only rows ever rewritten) by update."""

    def __init__(self, size: int) -> None:
        self._count: dict[int, int] = {}
        self._buffers: dict[int, bytearray] = {}
        self._existing: set[tuple[int, int]] = set()
        self._full: list[LogTile] = []
        level, n = 0, size
        while True:
            self._count[level] = n
            if n % rules.TILE_WIDTH:
                index = n // rules.TILE_WIDTH
                stored = LogTile.objects.filter(level=level, index=index).values_list("hashes", flat=True).first()
                self._buffers[level] = bytearray(stored or b"")
                self._existing.add((level, index))
            else:
                self._buffers[level] = bytearray()
            if n < rules.TILE_WIDTH:
                break
            level, n = level + 1, n // rules.TILE_WIDTH

    def append(self, digest: bytes, level: int = 0) -> None:
        if level not in self._count:
            self._count[level], self._buffers[level] = 0, bytearray()
        buffer = self._buffers[level]
        buffer += digest
        self._count[level] += 1
        if len(buffer) == TILE_BYTES:
            index = (self._count[level] - 1) // rules.TILE_WIDTH
            self._write(level, index, bytes(buffer))
            self._buffers[level] = bytearray()
            self.append(rules.perfect_root([buffer[i:i + HASH] for i in range(0, TILE_BYTES, HASH)]), level + 1)

    def _write(self, level: int, index: int, data: bytes) -> None:
        if (level, index) in self._existing:
            LogTile.objects.filter(level=level, index=index).update(hashes=data)
        else:
            self._full.append(LogTile(level=level, index=index, hashes=data))
            if len(self._full) >= 500:
                LogTile.objects.bulk_create(self._full)
                self._full = []

    def flush(self) -> None:
        for level, buffer in self._buffers.items():
            if buffer:
                self._write(level, self._count[level] // rules.TILE_WIDTH, bytes(buffer))
        if self._full:
            LogTile.objects.bulk_create(self._full)
            self._full = []
