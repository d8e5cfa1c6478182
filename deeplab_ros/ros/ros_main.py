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
The ``main()`` every node of this package shares: start, spin, and stop cleanly on any signal.

rclpy's own signal handler shuts the context down at the first SIGINT, while
timers and worker threads may still publish ("publisher's context is
invalid"), and a second SIGINT then interrupts the cleanup with a
``KeyboardInterrupt``. So this installs its own SIGINT, SIGTERM and SIGHUP handlers:
the first signal ends the spin; during start-up (model loading) it aborts the
start; later signals (a double Ctrl-C, launch forwarding SIGINT, a supervisor's
SIGTERM) are ignored while the node stops its threads, is destroyed, and only
then the context is shut down. Every way out exits 0, a failed start exits 1
with one fatal line under the node's own name.

The executor spins in a thread of its own and sleeps until there is work
(an executor wait cannot be interrupted by a Python signal handler). The main
thread checks, every 0.1 s, a flag that the signal handlers set: a handler runs
in the main thread wherever it is, inside a lock it holds or inside another
handler (a burst of SIGTERMs from a supervisor), so it must take no lock.

With ``DEEPLAB_ROS_EXIT_WITH`` set to a pid (this package's launch files set
their own), the node ends when that process ends, however it ends: it watches
that pid itself, so launch prefixes and wrappers in between (``gdb --args``,
``xterm -e``, ``sh -c``, ``/usr/bin/time``) change nothing.
"""

import atexit
import ctypes
import inspect
import os
from pathlib import Path
import select
import signal
import threading
import time
from typing import Optional

import rclpy
from rclpy.exceptions import InvalidHandle
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, \
    ShutdownException, SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions

# SIGHUP: the terminal that started it closed.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
FINISHED_CHECK = 0.1  # seconds between checks of ``finished`` and of a stop signal
# Set to the starter's pid (by this package's launch files): the node then ends with
# it, however it ends. `ros2 launch` killed by SIGTERM or SIGKILL leaves its children.
PARENT_VARIABLE = 'DEEPLAB_ROS_EXIT_WITH'
PID_LIMIT = 1 << 22  # Linux's largest pid_max: no pid anywhere reaches it
PARENT_RECHECK = 0.5  # seconds between checks of that pid where there is no pidfd
IMPORT_RECHECK = 0.05  # seconds: a stop signal that landed in numpy's import is tried again


def _logger():
    return rclpy.logging.get_logger('deeplab_ros')


def parent_pid(value: str) -> Optional[int]:
    """
    Return the pid in PARENT_VARIABLE's ``value``; None if empty or not a pid.

    Only ASCII digits count ('٥' and '²' are digits to ``str.isdigit``), and
    only numbers a pid can be; anything else is one warning line and ignored.
    """
    if not value:
        return None
    if value.isascii() and value.isdigit() and 0 < int(value) < PID_LIMIT:
        return int(value)
    _logger().warning(f'{PARENT_VARIABLE}={value[:40]!r} is not a process id: ignored (this '
                      'node will not end with the process that started it)')
    return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    return True


def _waiter(pid):
    """
    Return a function that returns once process ``pid`` has ended.

    A pidfd (Linux 5.3) follows that very process, whatever reuses its pid later;
    without one (another OS, an older kernel, a seccomp filter) the pid is polled.
    ProcessLookupError: it has ended already.
    """
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        raise
    except (AttributeError, OSError):
        if not _alive(pid):
            raise ProcessLookupError(pid) from None
        return lambda: _poll_until_gone(pid)
    poller = select.poll()
    poller.register(handle, select.POLLIN)
    return poller.poll


def _poll_until_gone(pid):
    while _alive(pid):
        time.sleep(PARENT_RECHECK)


def end_with_parent() -> bool:
    """
    With PARENT_VARIABLE naming a process: end this one with it (one line, then SIGTERM).

    Return False when that process has ended already (one line says so).
    """
    pid = parent_pid(os.environ.get(PARENT_VARIABLE, ''))
    if pid is None:
        return True
    try:
        wait = _waiter(pid)
    except ProcessLookupError:
        _logger().warning(f'not starting: process {pid} ({PARENT_VARIABLE}: what started this '
                          'node) has already ended; unset the variable if it was left over')
        return False

    def watch():
        wait()
        _logger().info(f'ending: process {pid} ({PARENT_VARIABLE}: what started this node) '
                       'has ended')
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name='parent watch', daemon=True).start()
    return True


def _initialising_numpy(frame):
    """Return whether ``frame`` runs inside the top-level code of a numpy module."""
    while frame is not None:
        if frame.f_code.co_name == '<module>' and 'numpy' in Path(frame.f_code.co_filename).parts:
            return True
        frame = frame.f_back
    return False


def _shutdown_rclpy():
    """
    ``rclpy.try_shutdown()`` that leaves the signal handlers alone.

    Kilted's uninstalls rclpy's handlers even where it installed none, and doing
    so sets SIGINT and SIGTERM to their default for an instant: a signal landing
    then killed the process (a burst of SIGTERMs did). Humble's and Jazzy's
    ``try_shutdown`` never touch them.
    """
    if 'uninstall_handlers' in inspect.signature(rclpy.try_shutdown).parameters:
        rclpy.try_shutdown(uninstall_handlers=False)
    else:
        rclpy.try_shutdown()


def _ignore_stop_signals():
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


class Interrupted(BaseException):
    """A stop signal arrived while the program was starting."""


class StopSignals:
    """
    Turn SIGINT/SIGTERM/SIGHUP into ``requested``; while ``abort_start`` is set, also raise.

    ``requested`` is a plain flag, not an Event: setting an Event takes its lock,
    and a second signal landing meanwhile deadlocked on it (the node never ended).
    A context manager. On exit the signals are ignored, not restored: the
    process is only exiting then, and a late SIGTERM (a supervisor, launch's
    escalation) must not turn a clean exit 0 into death by signal.

    They are ignored in the kernel (libc's ``signal``), not with
    ``signal.signal(s, SIG_IGN)``: a signal that another thread's C handler had
    taken before that call and records after it is reported as "OSError: Signal
    15 ignored due to race condition" with a traceback (a SIGTERM burst as the
    process ended did). Python's handler stays and does nothing; only at exit,
    long after the last one could land, does Python record SIG_IGN as well (it
    resets a signal with a Python handler to its default as it exits).
    """

    def __init__(self):
        self.requested = False
        self.abort_start = True
        self._deferred = False
        self._handling = False  # a signal that lands inside this handler only sets the flag

    def _handle(self, signum, frame):
        first = not self.requested
        self.requested = True
        if self._handling or not self.abort_start or not (first or self._deferred):
            return
        self._handling = True
        try:
            self._deferred = _initialising_numpy(frame)
            if self._deferred:
                # numpy's C API import (import_array, run by LiteRT as it initialises)
                # prints an exception raised there as a traceback: ask again in a moment.
                again = threading.Timer(IMPORT_RECHECK, os.kill, (os.getpid(), signum))
                again.daemon = True
                again.start()
                return
            raise Interrupted(signal.Signals(signum).name)
        finally:
            self._handling = False

    def __enter__(self):
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._handle)
        atexit.unregister(_ignore_stop_signals)
        atexit.register(_ignore_stop_signals)
        return self

    def __exit__(self, *exc):
        self.abort_start = False
        libc = ctypes.CDLL(None)
        libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
        for signum in STOP_SIGNALS:
            libc.signal(signum, int(signal.SIG_IGN))
        return False


class Spinner:
    """``executor.spin()`` in a thread; an exception there ends the program like one here."""

    def __init__(self, executor):
        self._executor = executor
        self.ended = threading.Event()
        self._stopping = False
        self.error = None
        self._thread = threading.Thread(target=self._spin, name='executor', daemon=True)
        self._thread.start()

    def _spin(self):
        try:
            self._executor.spin()
        except (ShutdownException, ExternalShutdownException):
            pass
        except InvalidHandle as err:
            # rclpy (Jazzy, Kilted) may trigger a guard condition that shutdown() has
            # already destroyed: harmless then, a real error before.
            if not self._stopping:
                self.error = err
        except BaseException as err:  # noqa: B902  raised again in the main thread
            self.error = err
        finally:
            self.ended.set()

    def stop(self):
        """Stop spinning and join; raise what the executor thread raised."""
        self._stopping = True
        self._executor.shutdown(timeout_sec=5.0)
        self._thread.join(timeout=5.0)
        if self.error is not None:
            raise self.error


def run_node(make_node, args=None, startup_errors=(), finished=None, threads=1):
    """
    Create a node with ``make_node()``, start and spin it, and return the exit code.

    The node may have ``start()`` (work that can fail: opening a camera, loading
    a model; ``startup_errors`` there mean one fatal line and exit 1) and
    ``close()`` (stop and join its threads; runs before ``destroy_node``).
    ``finished(node)`` returning true ends the spin (a finite input ran out).
    With ``threads`` > 1 the node spins on that many threads, already while
    ``start()`` runs, so a slow start (a big model) does not silence it.
    """
    with StopSignals() as signals:
        if not end_with_parent():
            return 0
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
        node = spinner = None
        code = 0
        try:
            try:
                node = make_node()
                executor = (MultiThreadedExecutor(num_threads=threads) if threads > 1
                            else SingleThreadedExecutor())
                executor.add_node(node)
                if threads > 1:
                    spinner = Spinner(executor)
                if hasattr(node, 'start'):
                    node.start()
            finally:
                # From here on a signal only ends the spin: nothing raises into the
                # cleanup below (the one place Interrupted can come from is above).
                signals.abort_start = False
            spinner = spinner or Spinner(executor)
            while not signals.requested and not spinner.ended.wait(FINISHED_CHECK):
                if finished and finished(node):
                    break
            spinner.stop()
            spinner = None
        except startup_errors as err:
            # A signal can surface as another error: pybind11 turns one raised while a
            # module initialises (importing LiteRT, say) into an ImportError.
            if not signals.requested:
                logger = node.get_logger() if node else rclpy.logging.get_logger('deeplab_ros')
                logger.fatal(f'cannot start: {err}')
                code = 1
        except (Interrupted, ExternalShutdownException):
            pass
        finally:
            if spinner is not None:  # a start that failed or was interrupted while spinning
                try:
                    spinner.stop()
                except Exception:  # noqa: B902  the start's own error is the one to show
                    pass
            if node is not None:
                if hasattr(node, 'close'):
                    node.close()
                node.destroy_node()
            _shutdown_rclpy()
    return code
