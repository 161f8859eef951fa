"""Checkpoint archives on disk or in file objects: crash-safe writes with one fixed temp name per target, and reads
that never unpickle. Imports: the standard library, backend."""

import errno
import io
import os
import zipfile

from .. import backend as B

try:
    import fcntl  # POSIX: a lock on the temp file keeps two concurrent saves to one path from mixing their bytes
except ImportError:  # pragma: no cover - Windows: saves to one path must not overlap
    fcntl = None


_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL}


def temp_path(path):
    """The one temp file a save to `path` may leave behind if killed: `.{name}.tmp` next to it (reused, so crashes
    never pile up files)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.tmp")


def _open_locked(tmp):
    """Open (creating, mode 0666 minus the umask as np.savez would) and exclusively lock the temp file. A writer
    that waited for the lock finds the name gone or pointing at a new file once the previous writer renamed it,
    and starts again on a fresh one."""
    while True:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.path.samestat(os.fstat(fd), os.stat(tmp)):
                return fd
        except FileNotFoundError:
            pass
        except OSError as e:
            if e.errno not in _NO_LOCKS:
                os.close(fd)
                raise
            return fd  # a file system without locks (some network mounts): save as on Windows
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def write_atomic(entries, path):
    """np.savez(entries) to `path` so that the file is always the old or the new checkpoint, whatever kills us:
    written to the temp file, flushed to disk, then renamed over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"tr.save: cannot write {path}: the folder {folder} does not exist")
    tmp = temp_path(path)
    try:
        fd = _open_locked(tmp)
    except OSError as e:
        raise OSError(e.errno, f"tr.save: cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            try:
                f.truncate(0)
                B.np.savez(f, **entries)
                f.flush()
                os.fsync(f.fileno())
                os.replace(tmp, path)  # still holding the lock: a waiting writer must not truncate what we rename
            except BaseException:
                if os.path.exists(tmp):  # still holding the lock, so it is our file we remove
                    os.remove(tmp)
                raise
    except OSError as e:
        if e.errno is None:
            raise
        raise OSError(e.errno, f"tr.save: cannot write {path}: {e.strerror}") from None
    try:  # make the rename itself durable where the OS allows it
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _check_binary(f, fn, attr):
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"{fn}: expected a binary file object (opened with '{'rb' if attr == 'read' else 'wb'}'), "
                        "got a text file")
    if not hasattr(f, attr):
        raise TypeError(f"{fn}: expected a path (str or os.PathLike) or a binary file object with .{attr}(), got "
                        f"{type(f).__name__}")


def target(f, fn, attr):
    """(path or None, file object or None, name for messages) for a path or a file object argument."""
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(os.fspath(f))
        if not path:
            raise ValueError(f"{fn}: the path is empty")
        return path, None, path
    _check_binary(f, fn, attr)
    return None, f, getattr(f, "name", None) or f"<{type(f).__name__}>"


_PICKLE = ("holds pickled Python objects, which tinygrad_rnn never loads (a checkpoint holds only numeric arrays "
           "and a JSON structure)")


def read_arrays(path, fileobj, name):
    """Every entry of an .npz archive as a host array, read with allow_pickle=False; ValueError naming the file
    for anything else (text, random bytes, a truncated archive, pickles, a PyTorch .pt file)."""
    if path is not None and not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, f"tr.load: no such file: {path}")
    if path is not None and os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"tr.load: {path} is a folder, not a checkpoint file")
    source = path
    if fileobj is not None:
        source = fileobj if _seekable(fileobj) else io.BytesIO(fileobj.read())
    try:
        head = _peek(source)
    except OSError as e:
        if e.errno is None:
            raise
        raise OSError(e.errno, f"tr.load: cannot read {name}: {e.strerror}") from None
    if head[:1] == b"\x80":  # a pickle (protocol 2 and later); older ones fail the signature check below
        raise ValueError(f"tr.load: {name} {_PICKLE}")
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY")):
        raise ValueError(f"tr.load: {name} is not a tinygrad_rnn checkpoint (.npz written by tr.save): it starts "
                         f"with {head[:8]!r}, not a zip archive's signature")
    try:
        archive = B.np.load(source, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        if "pickle" in str(e):
            raise ValueError(f"tr.load: {name} {_PICKLE}") from None
        raise ValueError(f"tr.load: {name} is not a readable checkpoint (truncated or damaged?): {e}") from None
    if not hasattr(archive, "files"):
        raise ValueError(f"tr.load: {name} is not a tinygrad_rnn checkpoint: it holds a single array (.npy), not "
                         "an .npz archive written by tr.save")
    arrays = {}
    try:
        with archive:
            for k in archive.files:
                if k.endswith(".pkl") or k.endswith("/version"):
                    raise ValueError(f"tr.load: {name} looks like a PyTorch checkpoint (torch.save: pickle inside "
                                     "a zip), which tinygrad_rnn never unpickles; load it with torch and pass "
                                     "{k: v.numpy() for k, v in state_dict.items()} to load_state_dict")
                v = archive[k]
                if not isinstance(v, B.np.ndarray):
                    raise ValueError(f"tr.load: {name} is not a tinygrad_rnn checkpoint: entry {k!r} is not an array")
                arrays[k] = v
    except ValueError as e:
        if str(e).startswith("tr.load"):
            raise
        if "pickle" in str(e):
            raise ValueError(f"tr.load: {name} {_PICKLE}") from None
        raise ValueError(f"tr.load: {name} is not a readable checkpoint: {e}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ValueError(f"tr.load: {name} is not a readable checkpoint (truncated or damaged?): {e}") from None
    return arrays


def _peek(source):
    if isinstance(source, str):
        with open(source, "rb") as f:
            return f.read(8)
    start = source.tell()
    head = source.read(8)
    source.seek(start)
    return head


def _seekable(f):
    try:
        return f.seekable()
    except (AttributeError, OSError, ValueError):
        return False
