"""Worker processes, each with a pipe of its own, answering tasks in the order they were given.

Why not ``concurrent.futures.ProcessPoolExecutor``: its workers hand results back through one shared pipe, a lock
taken around each message. A worker killed while writing a result (the out-of-memory killer, ``kill -9``) leaves
half a message in that pipe and the lock taken: the executor's manager thread waits for the rest of the message
forever, so it never notices the death, and a caller waiting for a result waits with it. A sync with a killed row
worker hung instead of ending. Here each worker has its own pipe and the calling process holds only its own end,
so a worker that dies, mid-message or not, is an end of file on its pipe: ``WorkerDied``, at once.

A worker reads tasks in order and answers each in order; ``WorkerPipes.result`` reads its ticket's answer, passing
over the answers of tickets whose results were never asked for (a reader that stopped early), so a pool can be
kept for the next file. The worker leaves the caller's process group: a Ctrl-C or a signal to the group reaches
the caller alone, which ends the workers by closing their pipes (they end too when it dies).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

Task = TypeVar("Task")
Answer = TypeVar("Answer")

STOP_SECONDS = 5.0
"""How long a worker is given to notice its pipe closed (it finishes the task in hand first) before it is
terminated."""


class WorkerDied(Exception):
    """A worker process ended while it owed answers."""

    def __init__(self, name: str, exitcode: int | None) -> None:
        self.exitcode = exitcode
        super().__init__(f"{name} ended {_how(exitcode)}")

    @property
    def killed(self) -> bool:
        """Ended by a signal (``kill -9``, the out-of-memory killer), not by an error of its own."""
        return self.exitcode is not None and self.exitcode < 0


class WorkerTraceback(Exception):
    """Where, in the worker, the exception raised to the caller came from (its ``__cause__``)."""


@dataclass(frozen=True, slots=True)
class Ticket:
    """A task handed to a worker: its answer is asked for with ``WorkerPipes.result``."""

    number: int
    worker: int


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    connection: Connection
    answered: int = 0
    """The number of the last ticket whose answer was read from this worker."""


class WorkerPipes(Generic[Task, Answer]):
    """``workers`` processes (started with ``spawn``: the caller may run librdkafka's threads, which a fork
    would copy mid-call), each running ``setup(argument)`` once, then the handler it returns on every task."""

    def __init__(
        self, workers: int, setup: Callable[[Any], Callable[[Task], Answer]], argument: Any, name: str = "worker"
    ) -> None:
        assert workers >= 1
        context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        self._handed = 0
        try:
            for n in range(workers):
                mine, theirs = context.Pipe(duplex=True)
                process = context.Process(
                    target=_serve, args=(theirs, setup, argument), name=f"{name} {n + 1}", daemon=True
                )
                process.start()
                theirs.close()  # the worker's end lives in the worker alone: its death is an end of file here
                self._workers.append(_Worker(process, mine))
        except BaseException:
            self.close()
            raise

    @property
    def processes(self) -> list[BaseProcess]:
        return [worker.process for worker in self._workers]

    def submit(self, task: Task) -> Ticket:
        """Hands ``task`` to the next worker in turn. Raises ``WorkerDied`` when that worker is gone."""
        assert self._workers, "the pool is closed"
        self._handed += 1
        ticket = Ticket(self._handed, (self._handed - 1) % len(self._workers))
        worker = self._workers[ticket.worker]
        try:
            worker.connection.send((ticket.number, task))
        except OSError as exc:  # a broken pipe: the worker is gone
            raise self._died(worker) from exc
        return ticket

    def result(self, ticket: Ticket) -> Answer:
        """The ticket's answer, waiting for it; re-raises what the handler raised. Raises ``WorkerDied`` when the
        worker ended before answering."""
        worker = self._workers[ticket.worker]
        assert worker.answered < ticket.number, "each answer is read once"
        while True:
            try:
                number, ok, answer = worker.connection.recv()
            except (EOFError, OSError) as exc:  # EOFError also when the message was cut off
                raise self._died(worker) from exc
            worker.answered = number
            if number == ticket.number:
                break
        if ok:
            return answer  # type: ignore[no-any-return]
        error, where = answer
        raise error from WorkerTraceback(where)

    def close(self) -> None:
        """Ends the workers: their pipes are closed (a worker finishes the task in hand, then finds that), and one
        not gone within ``STOP_SECONDS`` is terminated."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.connection.close()
        for worker in workers:
            worker.process.join(STOP_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()

    def _died(self, worker: _Worker) -> WorkerDied:
        worker.process.join(STOP_SECONDS)  # its exit status, for the message
        return WorkerDied(worker.process.name, worker.process.exitcode)

    def __enter__(self) -> WorkerPipes[Task, Answer]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _how(exitcode: int | None) -> str:
    if exitcode is None:
        return "its pipe but not its process"
    if exitcode < 0:
        try:
            return f"by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"by signal {-exitcode}"
    return f"with exit status {exitcode}"


# -- in a worker -------------------------------------------------------------------------------------------------


def _serve(connection: Connection, setup: Callable[[Any], Callable[[Any], Any]], argument: Any) -> None:
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    handle = setup(argument)
    while True:
        try:
            number, task = connection.recv()
        except (EOFError, OSError):  # the caller closed its end, or died
            return
        try:
            reply = (number, True, handle(task))
        except Exception as exc:  # handed to the caller, which raises it
            reply = (number, False, (_portable(exc), traceback.format_exc()))
        try:
            connection.send(reply)
        except OSError:  # the caller is gone
            return


def _portable(exc: Exception) -> Exception:
    """``exc`` if it survives pickling, else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
