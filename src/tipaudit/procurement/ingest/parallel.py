"""A few forked worker processes for the ingest, with results in a fixed order.

Why processes: reading (gzip, JSON parsing), merging and flattening are pure Python and hold the
GIL, so threads would not run them side by side. Why ``fork``: the workers inherit what the run
already built (the merge rules, the classifier that flattening uses) instead of pickling it or
loading it again. Tasks and results travel as small picklable values through pipes; the data
itself goes through files (the spill buckets, the Parquet parts).

Results come back in the order the tasks were given, whatever order the workers finish in, and
a task's exception is raised at its place in that order: callers fold results in as if the
tasks had run one after another. Only Linux is used (``fork`` is the default and safe there).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from tipaudit.procurement.ingest.errors import UnreadableInputError

__all__ = ["WorkerPool", "available_cores", "can_fork"]


def can_fork() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class WorkerError(RuntimeError):
    """A worker failed with an exception that could not be sent back as it was."""


class WorkerPool:
    """``count`` forked processes that each run ``handler(worker, task)`` for the tasks sent.

    ``handler`` runs in the worker, in the memory of the process at the time of the fork, and
    may keep state in it between tasks. Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, count: int, handler: Callable[[int, Any], Any]) -> None:
        context = multiprocessing.get_context("fork")
        self._connections: list[Connection] = []
        self._processes: list[Any] = []
        self._busy: set[int] = set()
        try:
            for worker in range(count):
                parent, child = context.Pipe()
                # The child closes its copies of the parent's ends, so that it sees the end of
                # its pipe (and stops) if the parent dies.
                inherited = [*self._connections, parent]
                process = context.Process(
                    target=_serve, args=(worker, child, handler, inherited), daemon=True
                )
                process.start()
                child.close()
                self._connections.append(parent)
                self._processes.append(process)
        except BaseException:
            self.close()
            raise

    @property
    def count(self) -> int:
        return len(self._processes)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map_ordered(self, tasks: Sequence[Any]) -> Iterator[Any]:
        """Run the tasks on whichever worker is free; yield their results in task order."""
        idle = list(range(len(self._connections)))
        busy: dict[Connection, tuple[int, int]] = {}  # connection -> (worker, task number)
        done: dict[int, tuple[bool, Any]] = {}
        following = 0
        sent = 0
        while following < len(tasks):
            while idle and sent < len(tasks):
                worker = idle.pop()
                self._send(worker, tasks[sent])
                busy[self._connections[worker]] = (worker, sent)
                sent += 1
            while following not in done:
                for connection in wait(list(busy)):
                    assert isinstance(connection, Connection)
                    worker, number = busy.pop(connection)
                    done[number] = self._receive(worker)
                    idle.append(worker)
            ok, value = done.pop(following)
            following += 1
            if not ok:
                raise value
            yield value

    def each(self, task_for: Callable[[int], Any]) -> list[Any]:
        """Run one task on every worker (``task_for(worker)``); results in worker order."""
        for worker in range(self.count):
            self._send(worker, task_for(worker))
        results = [self._receive(worker) for worker in range(self.count)]
        for ok, value in results:
            if not ok:
                raise value
        return [value for _, value in results]

    def _send(self, worker: int, task: Any) -> None:
        self._connections[worker].send(("task", task))
        self._busy.add(worker)

    def _receive(self, worker: int) -> tuple[bool, Any]:
        try:
            message: tuple[bool, Any] = self._connections[worker].recv()
            self._busy.discard(worker)
        except EOFError:
            code = self._processes[worker].exitcode
            return False, WorkerError(f"ingest worker {worker} stopped unexpectedly ({code})")
        ok, value = message
        return ok, value if ok else _rebuild(value)

    def close(self) -> None:
        """Stop the workers (at once if they are still busy); safe to call more than once."""
        for worker, process in enumerate(self._processes):
            if worker in self._busy:  # busy with a task nobody waits for any more
                process.kill()
            else:
                with contextlib.suppress(OSError):
                    self._connections[worker].send(("stop", None))
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():  # pragma: no cover - a worker that does not stop
                process.kill()
                process.join()
        for connection in self._connections:
            connection.close()
        self._connections = []
        self._processes = []
        self._busy = set()


def _serve(
    worker: int,
    connection: Connection,
    handler: Callable[[int, Any], Any],
    inherited: list[Connection],
) -> None:
    """The worker's loop: run tasks until told to stop."""
    for other in inherited:
        other.close()
    # What the worker inherited (the classifier's tables, reference data, caches) lives as long
    # as it does: out of the collector's sight, collections walk only what the worker made (and
    # do not write to, so copy, the pages shared with the parent).
    gc.freeze()
    # Ctrl-C goes to the whole process group: the parent stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            kind, task = connection.recv()
        except EOFError:
            return
        if kind == "stop":
            return
        try:
            result = handler(worker, task)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
            connection.send((False, _portable(exc)))
        else:
            connection.send((True, result))


def _portable(exc: BaseException) -> Any:
    """An exception as something that pickles and rebuilds as the same kind of error."""
    if isinstance(exc, UnreadableInputError):
        return ("unreadable", (exc.file, exc.index, exc.position, exc.reason))
    text = "".join(traceback.format_exception(exc))
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, just made
    except Exception:  # noqa: BLE001 - anything that does not survive the trip
        return ("text", f"{type(exc).__name__}: {exc}\n{text}")
    return ("exception", (exc, text))


def _rebuild(value: Any) -> BaseException:
    kind, data = value
    if kind == "unreadable":
        return UnreadableInputError(*data)
    if kind == "exception":
        exc, text = data
        exc.add_note(f"in an ingest worker process:\n{text}")
        return exc  # type: ignore[no-any-return]
    return WorkerError(data)
