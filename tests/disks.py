"""Small real disks for the tests: a tmpfs mounted on a folder, full or read-only, where
this machine lets the tests mount one (as root); the test is skipped where it does not."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def mount_tmpfs(folder: Path, size: str = "64k") -> str | None:
    """Mount a tmpfs of `size` on `folder` (created); None, or why it could not be."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
        capture_output=True,
    )
    return None if mounted.returncode == 0 else mounted.stderr.decode().strip() or "mount failed"


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], check=False)


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "64k") -> Iterator[Path]:
    """`folder` (created) on a tmpfs of `size`; unmounted afterwards. Skips the test
    where this machine does not let it mount one."""
    problem = mount_tmpfs(folder, size)
    if problem is not None:
        pytest.skip(f"cannot mount a tmpfs here: {problem}")
    try:
        yield folder
    finally:
        unmount(folder)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """`folder` (created) that this user cannot write: mode 0555, or for root (whom modes
    do not stop) a read-only tmpfs."""
    if os.geteuid() != 0:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    with tmpfs(folder):
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder


def fill(folder: Path, leave: int = 1024) -> None:
    """Fill the disk of `folder` to about `leave` free bytes."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    if free > leave:
        (folder / "filler").write_bytes(bytes(free - leave))


def a_device(folder: Path) -> Path:
    """A character device for a command to be pointed at. For root, a private copy of
    /dev/null made in `folder`: root may replace /dev/null itself, and a regression must
    not break the machine's. For a user, /dev/null (which a user cannot replace)."""
    if os.geteuid() != 0:
        return Path(os.devnull)
    path = folder / "null-device"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError as error:
        pytest.skip(f"cannot make a device node here: {error}")
    return path
