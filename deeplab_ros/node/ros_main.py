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
handler (a dying parent's SIGTERMs come in a burst), so it must take no lock.
"""

import ctypes
import inspect
import os
from pathlib import Path
import signal
import sys
import threading

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
IMPORT_RECHECK = 0.05  # seconds: a stop signal that landed in numpy's import is tried again


def _parent_gone():
    """
    With PARENT_VARIABLE set: end with that process; return whether it is gone already.

    On Linux, it asks for a SIGTERM when the parent ends; elsewhere that is a no-op.
    """
    parent = os.environ.get(PARENT_VARIABLE, '')
    if not parent.isdigit():
        return False
    if sys.platform.startswith('linux'):
        PR_SET_PDEATHSIG = 1  # noqa: N806  (the Linux constant's name)
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    return os.getppid() != int(parent)  # it ended before the line above


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
        return self

    def __exit__(self, *exc):
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
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
        if _parent_gone():
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
