# Copyright 2026 deeplab_ros developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
Files fetched once into a local cache: atomic, checked downloads and safe tar extraction.

Downloads are atomic (a ``.part`` file renamed on success), checked against
their pinned sha256 where one is known, and go through
``$DEEPLAB_ROS_DOWNLOAD_MIRROR`` when it is set. Tarballs are extracted only
after every member is checked to stay inside the target; two processes
extracting the same one at once both end up using one result. Cache files
and folders honour the umask, so a cache can be shared by a robot's users.
"""

import errno
import hashlib
import http.client
import os
from pathlib import Path
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.request

MIRROR_VARIABLE = 'DEEPLAB_ROS_DOWNLOAD_MIRROR'
CACHE_VARIABLE = 'DEEPLAB_ROS_CACHE'
DEADLINE = 1800.0  # seconds for one whole download (the largest zoo file is 439 MB)


class DownloadError(RuntimeError):
    """
    A file could not be fetched or stored; the message says what to do instead.

    ``reason`` is the cause alone, for callers with their own advice;
    ``offline`` tells whether fetching the file elsewhere would help (not for
    a cache that cannot be written).
    """

    def __init__(self, message, reason=None, offline=True):
        super().__init__(message)
        self.reason = reason or message
        self.offline = offline


def cache_dir(override=None):
    """Return the model cache: ``override``, $DEEPLAB_ROS_CACHE, or the XDG cache."""
    if override:
        return Path(override).expanduser()
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE]).expanduser()
    xdg = os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache'
    return Path(xdg) / 'deeplab_ros'


def writable_folder(folder):
    """Create ``folder`` if needed; DownloadError naming the cache variable if it cannot be."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # the real test, even for root
            pass
    except OSError as err:
        raise DownloadError(f'cannot write to the model cache {folder}: '
                            f'{err.strerror or err}; set {CACHE_VARIABLE} to a writable '
                            'folder', offline=False) from err
    return folder


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _share(path, mode):
    """Give a file made by mkstemp/mkdtemp (0600/0700) the umask's usual permissions."""
    os.chmod(path, mode & ~_umask())


def source_url(url):
    """
    Return ``url``, or ``$DEEPLAB_ROS_DOWNLOAD_MIRROR/<its file name>`` when the mirror is set.

    The mirror is a base URL (http, https, file) or a plain folder of files.
    """
    mirror = os.environ.get(MIRROR_VARIABLE, '').strip()
    if not mirror:
        return url
    if '://' not in mirror:  # a folder on this machine
        mirror = Path(mirror).expanduser().resolve().as_uri()
    return mirror.rstrip('/') + '/' + url.rstrip('/').rsplit('/', 1)[-1]


def _progress(done, total, stream):
    if total:
        filled = int(30 * done / total)
        stream.write(f'\r  [{"#" * filled}{"." * (30 - filled)}] '
                     f'{done / 1e6:6.1f} / {total / 1e6:.1f} MB')
    else:
        stream.write(f'\r  {done / 1e6:6.1f} MB')
    stream.flush()


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def download(url, target, progress=sys.stderr, timeout=30, sha256=None, size=None,
             deadline=DEADLINE):
    """
    Fetch ``url`` (or its mirror) into ``target`` atomically; an existing file is reused.

    With ``sha256`` the download is checked and a mismatch is an error (the
    partial file is removed, nothing lands at ``target``); an existing file
    that does not match (corrupted in the cache) is fetched again. With
    ``size`` (the pinned bytes) a server sending more is cut off. ``timeout``
    bounds each wait for data, ``deadline`` the whole download. Every failure
    is one DownloadError naming the URL, with what to do offline.
    """
    target = Path(target)
    if target.is_file():
        if sha256 is None or sha256_of(target) == sha256:
            return target
        if progress:
            progress.write(f'{target} does not have the pinned content: fetching it again\n')
    writable_folder(target.parent)
    fetched = source_url(url)
    mirror = '' if fetched != url else f', or set {MIRROR_VARIABLE} to a server holding it'

    def failed(why):
        reason = f'cannot download {fetched}: {why}'
        return DownloadError(
            f'{reason}. If this machine is offline, fetch the file elsewhere and place it at '
            f'{target}{mirror} (or pass its path as the model).', reason)
    fd, part = tempfile.mkstemp(dir=target.parent, prefix=target.name + '.', suffix='.part')
    try:
        with os.fdopen(fd, 'wb') as out:
            _fetch(fetched, out, progress, timeout, size, deadline, failed)
        digest = sha256_of(part) if sha256 else None
        if digest != sha256:
            raise failed(f'it does not have the expected content (sha256 {digest}, expected '
                         f'{sha256}); the server or mirror holds another file')
        _share(part, 0o666)
        os.replace(part, target)
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise DownloadError(f'no space left on the disk of {target.parent} for {fetched}: '
                                f'free some, or set {CACHE_VARIABLE} to a folder on another '
                                'disk', offline=False) from err
        raise failed(getattr(err, 'reason', None) or err.strerror or err) from err
    except (http.client.HTTPException, ValueError) as err:  # cut connection, bad URL or header
        raise failed(f'{type(err).__name__}: {err}' if str(err) else type(err).__name__) \
            from err
    finally:
        if os.path.exists(part):
            os.unlink(part)
    return target


def _fetch(url, out, progress, timeout, size, deadline, failed):
    """Copy ``url`` into ``out``: reads return as soon as data arrives, so limits apply."""
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        declared = str(resp.headers.get('Content-Length') or '').strip()
        total = int(declared) if declared.isdigit() else 0  # malformed: unknown
        if size and total > size:
            raise failed(f'the server announces {total} bytes, more than the {size} pinned')
        if progress:
            progress.write(f'Downloading {url}\n')
        read = getattr(resp, 'read1', resp.read)
        done = 0
        while chunk := read(1 << 16):
            done += len(chunk)
            if size and done > size:
                raise failed(f'the server sent more than the {size} bytes pinned for it')
            if time.monotonic() - started > deadline:
                raise failed(f'it took over {deadline:.0f} s ({done} bytes so far)')
            out.write(chunk)
            if progress:
                _progress(done, total, progress)
        if progress:
            progress.write('\n')
        if total and done != total:
            raise failed(f'cut off at {done} of {total} bytes')


def _check_members(tar, destination):
    root = Path(destination).resolve()
    for member in tar.getmembers():
        name = member.name
        if member.issym() or member.islnk() or not (member.isfile() or member.isdir()):
            raise ValueError(f'refusing to extract {tar.name}: member {name!r} is a link '
                             'or special file')
        resolved = (root / name).resolve()
        if os.path.isabs(name) or '..' in Path(name).parts or root not in resolved.parents:
            raise ValueError(f'refusing to extract {tar.name}: member {name!r} would land '
                             f'outside {root}')


def extract_tarball(tarball, destination):
    """Safely extract ``tarball`` to ``destination`` (atomic; reused when present)."""
    destination = Path(destination)
    if destination.is_dir():
        return destination
    writable_folder(destination.parent)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=destination.name + '.'))
    try:
        _share(staging, 0o777)
        try:
            with tarfile.open(tarball) as tar:
                _check_members(tar, staging)
                tar.extractall(staging, filter='data')
        except (tarfile.TarError, EOFError, OSError) as err:
            raise ValueError(f'{tarball} is not a readable .tar.gz archive ({err}); '
                             'delete it and download it again') from err
        try:
            os.replace(staging, destination)
        except OSError:
            if not destination.is_dir():  # not another process that won the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination
