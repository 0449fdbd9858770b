"""The screens' cache on disk: flask-caching's FileSystemCache without its count file, swept now and then instead,
with JSON entries (dashboard/codec.py): a file planted in the folder is at worst a wrong answer, never code run.

cachelib keeps the number of entries in a file it rewrites on every set when a threshold is configured: an
atomic replace of an existing file, which ext4 flushes (about 1 ms, twice per set once the count is read
back), and a cold drill sets some thirty entries. With threshold 0 it keeps no count; the bound comes from a
sweep that a process runs in the background at most every SWEEP_SECONDS: expired entries go, then the
oldest beyond the limit of entries or of bytes (a few large answers, a province's children, could otherwise fill
the disk within the count).

The single flight's locks (dashboard/flight.py) are byte-range locks (fcntl) on one file beside the folder, one byte
per key: taking and letting go of one is a system call, where a lock written as an entry created, linked and removed
files (about 0.8 ms each, some 26 ms of a cold drill's 48), and the system frees the locks of a worker that dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import struct
import tempfile
import threading
import time

from flask_caching.backends.filesystemcache import FileSystemCache

from dashboard.codec import JsonSerializer

# Entries the folder keeps at most after a sweep (the threshold this cache had with its count file).
LIMIT = 20000
# Bytes the folder keeps at most after a sweep: 20,000 answers of ~25 KB, the size of a village's screen.
LIMIT_BYTES = 512 * 1024 * 1024
SWEEP_SECONDS = 600
# A temporary file of a write that was killed half-way is left behind; any older than this is debris.
STALE_TEMPORARY_SECONDS = 3600


class SweptFileSystemCache(FileSystemCache):
    """A FileSystemCache that keeps no count file, bounded by a background sweep (see the module)."""

    serializer = JsonSerializer()

    def __init__(
        self,
        cache_dir: str,
        limit: int = LIMIT,
        sweep_seconds: float = SWEEP_SECONDS,
        limit_bytes: int = LIMIT_BYTES,
        **kwargs,
    ):
        kwargs["threshold"] = 0  # no count file: no listing at start, no rewrite per set
        super().__init__(cache_dir, **kwargs)
        self.limit = limit
        self.limit_bytes = limit_bytes
        self.sweep_seconds = sweep_seconds
        # Not at start: a new worker's first requests should not share the CPU with a sweep.
        self._next_sweep = time.monotonic() + sweep_seconds
        self._sweep_lock = threading.Lock()
        # Beside the folder, not in it: clearing or sweeping the folder never removes it.
        self._locks_path = os.path.normpath(self._path) + ".locks"
        self._locks_handle: int | None = None
        self._locks_opening = threading.Lock()

    @classmethod
    def factory(cls, app, config, args, kwargs) -> SweptFileSystemCache:
        """The cache for flask-caching's ``CACHE_TYPE`` (its settings: ``CACHE_DIR``, ``CACHE_FILE_HASH_METHOD``)."""
        return cls(config["CACHE_DIR"], *args, hash_method=config["CACHE_FILE_HASH_METHOD"], **kwargs)

    def add(self, key, value, timeout=None) -> bool:
        """Store an entry only when none (or only an expired one) is there, atomically across processes: a hard
        link fails on an existing name (cachelib's add looks, then writes, and two workers could both add).

        False only when the entry is there; any other failure to write (a full, read-only or removed folder) raises
        its OSError."""
        filename = self._get_filename(key)
        for _ in range(2):
            handle, temporary = tempfile.mkstemp(suffix=self._fs_transaction_suffix, dir=self._path)
            try:
                with os.fdopen(handle, "wb") as written:
                    written.write(struct.pack("I", self._normalize_timeout(timeout)))
                    self.serializer.dump(value, written)
                os.link(temporary, filename)
                return True
            except FileExistsError:
                if self.has(key):
                    return False
                with contextlib.suppress(FileNotFoundError):
                    os.remove(filename)  # expired: gone, and the next try may take its place
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(temporary)
        return False

    def _locks_file(self) -> int:
        """The lock file's descriptor, opened once per cache and never closed: closing any descriptor of a file
        lets go of every lock the process holds on it."""
        if self._locks_handle is None:
            with self._locks_opening:
                if self._locks_handle is None:
                    self._locks_handle = os.open(self._locks_path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._locks_handle

    @staticmethod
    def _lock_byte(name: str) -> int:
        """The byte of the lock file that stands for ``name`` (62 bits of its hash: two names never meet)."""
        return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big") >> 2

    def lock(self, name: str) -> bool:
        """Take the lock ``name`` for this process unless another process holds it; an OSError when the lock file
        cannot be opened (then nobody can hold it). Threads of one process share its locks: the single flight lets
        one thread per name ask."""
        handle = self._locks_file()  # outside the try: a lock file this process may not open is no lock held
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, self._lock_byte(name))
        except (BlockingIOError, PermissionError):  # EAGAIN or EACCES: another process holds it
            return False
        return True

    def unlock(self, name: str) -> None:
        """Let go of the lock ``name``."""
        fcntl.lockf(self._locks_file(), fcntl.LOCK_UN, 1, self._lock_byte(name))

    def lock_held(self, name: str) -> bool:
        """Whether another process holds the lock ``name`` now."""
        if not self.lock(name):
            return True
        self.unlock(name)
        return False

    def set(self, key, value, timeout=None, mgmt_element: bool = False) -> bool:
        """Store an entry; the first set after SWEEP_SECONDS starts a sweep in the background."""
        stored = super().set(key, value, timeout, mgmt_element)
        now = time.monotonic()
        if now >= self._next_sweep and self._sweep_lock.acquire(blocking=False):
            self._next_sweep = now + self.sweep_seconds
            threading.Thread(target=self._sweep_then_release, daemon=True).start()
        return stored

    def _sweep_then_release(self) -> None:
        try:
            self.sweep()
        finally:
            self._sweep_lock.release()

    def sweep(self, now: float | None = None) -> int:
        """Remove entries expired at ``now`` (default: now), then the oldest beyond the limit of entries and of
        bytes; the number of files removed."""
        now = time.time() if now is None else now
        kept, removed = [], 0
        with os.scandir(self._path) as entries:
            for entry in entries:
                try:
                    if entry.name.endswith(self._fs_transaction_suffix):
                        if now - entry.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                            os.remove(entry.path)
                            removed += 1
                        continue
                    with open(entry.path, "rb") as file:
                        expires = struct.unpack("I", file.read(4))[0]
                    if expires and expires < now:
                        os.remove(entry.path)
                        removed += 1
                    else:
                        status = entry.stat()
                        kept.append((status.st_mtime, status.st_size, entry.path))
                except (OSError, struct.error):
                    continue  # removed meanwhile by another worker, or being written: the next sweep sees it
        kept.sort()
        excess_count = len(kept) - self.limit
        excess_bytes = sum(size for _mtime, size, _path in kept) - self.limit_bytes
        for _mtime, size, path in kept:
            if excess_count <= 0 and excess_bytes <= 0:
                break
            excess_count -= 1
            excess_bytes -= size
            try:
                os.remove(path)
                removed += 1
            except OSError:
                continue
        return removed
