"""The config file on disk: ownership checks, an exclusive lock while it
changes, and atomic saves (0600 inside a 0700 folder)."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from astra_auth.core.errors import ConfigError
from astra_auth.storage.config.model import Config
from astra_auth.storage.config.parse import dumps, loads


class ConfigStore:
    """The config file at `path`: read it, or change it under an exclusive lock.

    `explicit`: the user named the file (`--config`, ASTRA_AUTH_CONFIG); a file
    or folder that others can write is then an error, not a warning (`warn`).
    """

    def __init__(self, path: Path, *, explicit: bool = False,
                 warn: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.explicit = explicit
        self.warn = warn
        self._checked = False

    def load(self) -> Config:
        raw = self._read()
        if raw is None:
            return Config()
        return loads(raw, self.path)

    def _read(self) -> bytes | None:
        """The file's bytes (None when there is none), its ownership checked."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise ConfigError(f"{self.path}: is a folder, not a config file") from None
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot be read: {exc.strerror}") from None
        self._check_ownership()
        return raw

    def _check_ownership(self) -> None:
        """Like ssh: a config file or folder that another user owns or can write
        could send the secrets elsewhere (a token URL of theirs)."""
        if self._checked:
            return
        self._checked = True
        problems = ownership_problems(self.path)
        if not problems:
            return
        if self.explicit:
            raise ConfigError(
                f"{self.path}: refusing to use it: {'; '.join(problems)}",
                hints=["Anyone who can change this file can send the secrets to a token "
                       "URL of their own. Fix the permissions: chmod go-w on the file and "
                       "its folder, and chown them to yourself."],
            )
        if self.warn is not None:
            self.warn(f"{self.path}: {'; '.join(problems)}; anyone who can change it can "
                      "send your secrets elsewhere (fix with chmod go-w)")

    @contextlib.contextmanager
    def edit(self) -> Iterator[Config]:
        """Yield the current config; save it when the block ends without error.

        The lock is held from before the read until after the replace, so that
        two processes changing different targets at once lose neither change.
        """
        self._refuse_symlink()
        self._ensure_folder()
        with self._locked():
            config = self.load()
            yield config
            self._write(config)

    def _refuse_symlink(self) -> None:
        """Saving replaces the file, which would silently replace a link with a
        file; writing through a link planted by someone else would create or
        overwrite a file where they chose.  So a link is refused, by name."""
        if not self.path.is_symlink():
            return
        from astra_auth.text.shellcmd import Placeholder, command

        target = os.path.realpath(self.path)
        raise ConfigError(
            f"{self.path}: is a symbolic link (to {target}); astra-auth does not save "
            "through links",
            hints=["Save to the file itself: " + command("--config", target, Placeholder("…")),
                   "Or replace the link with the file it points to."],
        )

    def _ensure_folder(self) -> None:
        folder = self.path.parent
        if not folder.exists():
            try:
                folder.mkdir(mode=0o700, parents=True)
            except FileExistsError:
                pass
            except OSError as exc:
                raise ConfigError(f"{folder}: cannot create the folder: {exc.strerror}") from None
            # mkdir's mode is masked by the umask; the folder must be 0700 (SECURITY.md).
            os.chmod(folder, 0o700)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(file_lock(lock_path))
            except OSError as exc:
                raise ConfigError(f"{lock_path}: cannot lock: {exc.strerror}") from None
            yield

    def _write(self, config: Config) -> None:
        text = dumps(config)
        try:
            atomic_write(self.path, text)
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot be saved: {exc.strerror}") from None


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text`: readers see the old file or the new, never half."""
    import tempfile

    folder = path.parent
    # mkstemp creates the file 0600 from the start: no window in which another
    # user could open it.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def ownership_problems(path: Path, uid: int | None = None, *,
                       sticky_folder_ok: bool = False) -> list[str]:
    """What is wrong, ssh-style, with who may change `path` and its folder:
    owned by another user (root excepted), or writable by group or others.
    `sticky_folder_ok`: a folder such as /tmp, whose sticky bit keeps others
    from replacing a file they do not own, is fine (for a file read alone,
    with nothing kept beside it)."""
    if uid is None:
        if not hasattr(os, "geteuid"):  # pragma: no cover - Windows has ACLs instead
            return []
        uid = os.geteuid()
    problems = []
    for what, where in (("the file", path), ("its folder", path.parent)):
        try:
            st = os.stat(where)
        except OSError:
            continue
        if st.st_uid not in (uid, 0):
            problems.append(f"{what} is owned by another user (uid {st.st_uid})")
        sticky = where is not path and sticky_folder_ok and st.st_mode & stat.S_ISVTX
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky:
            problems.append(f"{what} can be written by "
                            + ("others" if st.st_mode & stat.S_IWOTH else "its group")
                            + f" (mode {stat.S_IMODE(st.st_mode):04o})")
    return problems


@contextlib.contextmanager
def file_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (created 0600) for the block.

    OSError from opening or locking reaches the caller, which decides whether
    working without the lock is safe.
    """
    # O_NOFOLLOW: a link planted at the lock's name must not make us create or
    # open a file elsewhere (ELOOP reaches the caller as OSError).
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        _lock(fd)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _lock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) everywhere.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
