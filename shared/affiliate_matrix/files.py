"""Files the commands write for a person (an export, a report): whole or not at all."""

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def whole_or_not_at_all(out: str | os.PathLike) -> Iterator[str]:
    """A file beside `out` to write, renamed onto it once written: a write that fails half-way (a full disk, Ctrl-C,
    the index failing on a later page) leaves `out` as it was, not cut short (JSON Lines or CSV cut between two lines
    would import back as a whole file; a PNG cut short is no figure). Made as open() makes a file, within the umask, or
    with the permissions of the file it replaces. Anything but a regular file (/dev/stdout, a pipe) is written as it
    is; a link, at the file it names. The name given has no extension of `out`'s: say the format to a writer that
    guesses it from the name."""
    out = os.fspath(out)
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        mode = None  # made here
    if mode is not None and not stat.S_ISREG(mode):
        yield out
        return
    target = os.path.realpath(out)
    folder, name = os.path.split(target)
    partial = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.partial")
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:  # named as the user named it, not as the partial file beside it
        raise OSError(exc.errno, exc.strerror, out) from None
    if mode is not None:  # the file it replaces keeps its permissions
        os.chmod(partial, stat.S_IMODE(mode))
    try:
        yield partial
        os.replace(partial, target)
    except BaseException:
        os.unlink(partial)
        raise
