"""A folder of cache entries that the checked tree cannot subvert.

The cache folder sits inside the checked project (``.dbcheck_cache``), so it is as
untrusted as the project's files: a pull request can commit anything there - entries
crafted to crash the decoder, results that hide every finding, symlinks that point the
writes elsewhere, a FIFO that blocks a read forever, ``/dev/zero``. So:

- **Every entry is authenticated.** It carries a keyed BLAKE2b MAC over dbcheck's build
  stamp, the entry's name and its bytes, keyed by a per-user secret kept outside every
  project (``$XDG_CACHE_HOME/dbcheck/secret``, made 0600 on first use). Bytes that fail
  the check are a miss and are never unmarshalled; a tree cannot forge an entry without
  the user's secret, and cannot move a genuine one to another name.
- **Nothing is followed.** The cache folder and its subfolders are opened once with
  ``O_NOFOLLOW | O_DIRECTORY`` and every entry is opened, created and renamed relative
  to those folder descriptors, with ``O_NOFOLLOW``: a symlinked folder disables the
  cache (one warning), a symlinked entry is a miss, and a write lands only in the real
  cache folder.
- **Reads are bounded.** Only regular files are read (opened non-blocking, checked with
  ``fstat``), and none larger than ``MAX_ENTRY_BYTES``.

Without a usable secret (no home folder, a read-only one) entries get a key of this
process only: the cache then lasts for one run, and the run still works.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
from pathlib import Path
from typing import Optional

MAX_ENTRY_BYTES = 512 * 1024 * 1024
_MAGIC = b"DBCv2\n"
_MAC_BYTES = 32
_SECRET_BYTES = 32
_PERSON = b"dbcheck-cache"
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | \
    getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | \
    getattr(os, "O_NONBLOCK", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class StoreError(Exception):
    """The folder cannot be used; ``str(err)`` says why, for the one warning."""


def secret_path() -> Optional[Path]:
    """Where the per-user secret lives: the user's cache folder, never a project's."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):
        try:
            base = os.path.join(Path.home(), ".cache")
        except RuntimeError:  # no home folder
            return None
    return Path(base) / "dbcheck" / "secret"


def _private_folder(folder: Path) -> None:
    """``folder`` exists, is a real folder, is ours and no one else may enter it."""
    try:
        os.makedirs(folder.parent, exist_ok=True)
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise OSError(errno.ENOTDIR, f"{folder} is not a folder")
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o077):
        raise OSError(errno.EPERM, f"{folder} is not private to this user")


def _read_secret(path: Path) -> Optional[bytes]:
    try:
        fd = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != _SECRET_BYTES:
            raise OSError(errno.EINVAL, f"{path} is not a dbcheck secret")
        if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o077):
            raise OSError(errno.EPERM, f"{path} is readable by others")
        data = os.read(fd, _SECRET_BYTES)
    finally:
        os.close(fd)
    if len(data) != _SECRET_BYTES:
        raise OSError(errno.EINVAL, f"{path} is not a dbcheck secret")
    return data


def load_secret() -> tuple[bytes, Optional[str]]:
    """(the key that authenticates cache entries, why it lasts for this process only or
    None). Created on first use; two processes racing to create it agree on one (the
    second's ``link`` fails and it reads the first's)."""
    path = secret_path()
    if path is None:
        return secrets.token_bytes(_SECRET_BYTES), "no home folder to keep the cache's key in"
    try:
        _private_folder(path.parent)
        existing = _read_secret(path)
        if existing is not None:
            return existing, None
        temporary = path.parent / f".secret.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, _CREATE_FLAGS, 0o600)
        try:
            os.write(fd, secrets.token_bytes(_SECRET_BYTES))
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
        created = _read_secret(path)
        if created is None:
            raise OSError(errno.ENOENT, f"{path} vanished")
        return created, None
    except OSError as err:
        return secrets.token_bytes(_SECRET_BYTES), f"cannot keep the cache's key in {path.parent} ({err.strerror or err})"


def _open_folder(name: str, parent: Optional[int], create: bool) -> int:
    if create:
        try:
            os.mkdir(name, 0o755, dir_fd=parent) if parent is not None else os.mkdir(name, 0o755)
        except FileExistsError:
            pass
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent) if parent is not None else os.open(name, _DIR_FLAGS)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            raise StoreError(f"{name} is not a real folder (a symbolic link or a file)") from None
        raise


class EntryStore:
    """Authenticated entries in a folder and its named subfolders. Opened lazily;
    ``OSError`` / ``StoreError`` from ``open`` mean the folder cannot be used."""

    def __init__(self, folder: Path, stamp: str, subfolders: tuple[str, ...], key: bytes) -> None:
        self.folder = folder
        self.stamp = stamp.encode("utf-8")
        self.subfolders = subfolders
        self._key = key
        self._fds: dict[str, int] = {}

    # ---- the folders

    def open(self) -> bool:
        """Create (if need be) and open the folder, following no symbolic link; whether
        this call created it. The subfolders wait for ``open_subfolders``: the caller
        first decides whether the folder is one it may use."""
        if self._fds:
            return False
        folder = os.path.abspath(self.folder)
        parent, name = os.path.split(folder)
        os.makedirs(parent, exist_ok=True)  # the project's own path: the user's choice
        parent_fd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            try:
                os.mkdir(name, 0o755, dir_fd=parent_fd)
                created = True
            except FileExistsError:
                created = False
            self._fds[""] = _open_folder(name, parent_fd, create=False)
        finally:
            os.close(parent_fd)
        return created

    def open_subfolders(self) -> None:
        top = self._fds[""]
        try:
            for sub in self.subfolders:
                try:
                    self._fds[sub] = _open_folder(sub, top, create=True)
                except StoreError:
                    raise StoreError(f"{os.path.join(self.folder, sub)} is not a real folder "
                                     "(a symbolic link or a file)") from None
        except BaseException:
            self.close()
            raise

    def read_plain(self, name: str, limit: int = 4096) -> Optional[bytes]:
        """A small regular file of the folder itself (its ``.gitignore``), or None."""
        folder = self._fds.get("")
        if folder is None:
            return None
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=folder)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            return _read_at_most(fd, limit)
        except OSError:
            return None
        finally:
            os.close(fd)

    def close(self) -> None:
        fds, self._fds = self._fds, {}
        for fd in fds.values():
            try:
                os.close(fd)
            except OSError:
                pass

    def __del__(self) -> None:
        self.close()

    # ---- entries

    def _mac(self, sub: str, name: str, payload: "bytes | bytearray") -> bytes:
        mac = hashlib.blake2b(key=self._key, digest_size=_MAC_BYTES, person=_PERSON)
        mac.update(self.stamp + b"\0" + f"{sub}/{name}".encode("utf-8", "surrogateescape") + b"\0")
        mac.update(payload)
        return mac.digest()

    def read(self, sub: str, name: str, limit: int = MAX_ENTRY_BYTES) -> Optional[memoryview]:
        """The entry's payload, or None: missing, not a regular file, larger than
        ``limit``, or not written by this user's dbcheck build under this name. Read
        into one buffer (the header first: bytes that do not start like an entry cost
        nothing more), never copied."""
        folder = self._fds.get(sub)
        if folder is None:
            return None
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=folder)
        except OSError:
            return None
        head = len(_MAGIC) + _MAC_BYTES
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or not head <= info.st_size <= min(limit, MAX_ENTRY_BYTES):
                return None
            header = _read_at_most(fd, head)
            if len(header) != head or not header.startswith(_MAGIC):
                return None
            payload = bytearray(info.st_size - head)
            if not _read_into(fd, payload) or os.read(fd, 1):
                return None  # changed size while read
        except OSError:
            return None
        finally:
            os.close(fd)
        if not secrets.compare_digest(header[len(_MAGIC):], self._mac(sub, name, payload)):
            return None
        return memoryview(payload)

    def write(self, sub: str, name: str, payload: bytes) -> None:
        """Write the entry atomically: a new file created beside it (never through a
        link), renamed over it. Raises OSError."""
        self._replace(sub, name, (_MAGIC + self._mac(sub, name, payload), payload), 0o600)

    def write_plain(self, name: str, data: bytes) -> None:
        """A file that is not an entry (the folder's ``.gitignore``), written the same way."""
        self._replace("", name, (data,), 0o644)

    def _replace(self, sub: str, name: str, chunks: tuple[bytes, ...], mode: int) -> None:
        folder = self._fds[sub]
        temporary = f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temporary, _CREATE_FLAGS, mode, dir_fd=folder)
        try:
            try:
                for chunk in chunks:
                    _write_all(fd, chunk)
            finally:
                os.close(fd)
            os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            try:
                os.unlink(temporary, dir_fd=folder)
            except OSError:
                pass
            raise

    def is_regular(self, sub: str, name: str) -> bool:
        folder = self._fds.get(sub)
        if folder is None:
            return False
        try:
            return stat.S_ISREG(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
        except OSError:
            return False

    def names(self, sub: str) -> list[str]:
        """The entries of a subfolder (temporary files included), unordered."""
        folder = self._fds.get(sub)
        if folder is None:
            return []
        try:
            return os.listdir(folder)
        except OSError:
            return []

    def mtime_ns(self, sub: str, name: str) -> int:
        folder = self._fds.get(sub)
        if folder is None:
            return 0
        try:
            return os.stat(name, dir_fd=folder, follow_symlinks=False).st_mtime_ns
        except OSError:
            return 0

    def remove(self, sub: str, name: str) -> None:
        folder = self._fds.get(sub)
        if folder is None:
            return
        try:
            os.unlink(name, dir_fd=folder)
        except OSError:
            pass


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(limit - size, 1 << 24))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _read_into(fd: int, buffer: bytearray) -> bool:
    """Fill ``buffer`` from ``fd``; False when the file ends first."""
    view = memoryview(buffer)
    while view:
        count = os.readv(fd, [view])
        if not count:
            return False
        view = view[count:]
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
