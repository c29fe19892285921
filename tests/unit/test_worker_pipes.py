"""Worker processes with a pipe each (``sync.worker_pipes``, behind the row workers): answers in the order the tasks
were given, and a worker that dies, even halfway through writing an answer, is an error at once, never a wait."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator

import pytest

from marketo_stream.sync import worker_pipes
from marketo_stream.sync.worker_pipes import WorkerDied, WorkerPipes, WorkerTraceback

Task = tuple[str, int]


class Refused(Exception):
    pass


def serve(greeting: str) -> Callable[[Task], tuple[str, int, int | bytes]]:
    """A worker answering ("echo", n) with its greeting, its pid and n; ("bulk", n) with n bytes; ("fail", _) by
    raising; ("sleep", n) after n seconds."""

    def handle(task: Task) -> tuple[str, int, int | bytes]:
        kind, n = task
        if kind == "fail":
            raise Refused(f"task {n} refused")
        if kind == "sleep":
            time.sleep(n)
        return greeting, os.getpid(), (b"x" * n if kind == "bulk" else n)

    return handle


@pytest.fixture
def pipes() -> Iterator[WorkerPipes[Task, tuple[str, int, int | bytes]]]:
    with WorkerPipes(2, serve, "hello", name="test worker") as made:
        yield made


def writing(pipes: WorkerPipes[Task, tuple[str, int, int | bytes]], worker: int) -> None:
    """Waits until the worker has begun writing its answer (the first bytes are in its pipe)."""
    connection = pipes._workers[worker].connection
    deadline = time.monotonic() + 60
    while not connection.poll(0.1):
        assert time.monotonic() < deadline, "the worker never began its answer"


BULK = 64 << 20
"""Bytes of an answer far larger than any socket buffer: a worker that began writing it cannot have finished
while nobody reads."""


def test_answers_come_back_in_the_order_the_tasks_were_given_from_every_worker(pipes) -> None:
    tickets = [pipes.submit(("echo", n)) for n in range(10)]
    answers = [pipes.result(ticket) for ticket in tickets]

    assert [n for _, _, n in answers] == list(range(10))
    assert {greeting for greeting, _, _ in answers} == {"hello"}, "each worker ran the setup with its argument"
    assert {pid for _, pid, _ in answers} == {p.pid for p in pipes.processes}, "tasks are spread over the workers"


def test_what_the_handler_raises_is_raised_to_the_caller_with_the_workers_traceback(pipes) -> None:
    ticket = pipes.submit(("fail", 7))

    with pytest.raises(Refused, match="task 7 refused") as raised:
        pipes.result(ticket)
    assert isinstance(raised.value.__cause__, WorkerTraceback)
    assert "in handle" in str(raised.value.__cause__)
    assert pipes.result(pipes.submit(("echo", 8)))[2] == 8, "the worker goes on"


def test_answers_never_asked_for_are_passed_over(pipes) -> None:
    forgotten = [pipes.submit(("echo", n)) for n in range(4)]
    wanted = pipes.submit(("echo", 99))

    assert pipes.result(wanted)[2] == 99
    assert pipes.result(pipes.submit(("echo", 100)))[2] == 100
    assert pipes.result(pipes.submit(("echo", 101)))[2] == 101
    assert len(forgotten) == 4


def test_a_worker_killed_halfway_through_writing_its_answer_is_reported_at_once(pipes) -> None:
    ticket = pipes.submit(("bulk", BULK))
    writing(pipes, ticket.worker)
    os.kill(pipes.processes[ticket.worker].pid or -1, signal.SIGKILL)

    with pytest.raises(WorkerDied, match="test worker 1 ended by signal SIGKILL") as died:
        pipes.result(ticket)
    assert died.value.exitcode == -signal.SIGKILL
    assert died.value.killed


def test_a_worker_killed_while_idle_is_reported_when_next_given_work_or_asked(pipes) -> None:
    (victim, _) = pipes.processes
    os.kill(victim.pid or -1, signal.SIGKILL)
    victim.join(30)

    with pytest.raises(WorkerDied, match="test worker 1 ended by signal SIGKILL"):
        pipes.result(pipes.submit(("echo", 1)))


def test_close_ends_every_worker_even_one_blocked_writing_an_answer_nobody_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker_pipes, "STOP_SECONDS", 120.0)  # time to leave on their own on the busiest machine
    pipes: WorkerPipes[Task, tuple[str, int, int | bytes]] = WorkerPipes(2, serve, "hello")
    ticket = pipes.submit(("bulk", BULK))
    writing(pipes, ticket.worker)
    processes = pipes.processes

    pipes.close()

    assert [p.exitcode for p in processes] == [0, 0], "each noticed its pipe closed and left (not killed)"


def test_workers_leave_the_callers_process_group_so_a_ctrl_c_reaches_the_caller_alone(pipes) -> None:
    pipes.result(pipes.submit(("echo", 0)))  # both started: the first answer came from one, the spawn is done
    pipes.result(pipes.submit(("echo", 1)))

    assert all(os.getpgid(p.pid or -1) != os.getpgid(0) for p in pipes.processes)


def cannot_start(_: object) -> Callable[[Task], object]:
    raise Refused("no recipes")


def test_a_worker_that_fails_to_start_is_reported_with_its_exit_status_not_as_killed() -> None:
    pipes: WorkerPipes[Task, object] = WorkerPipes(1, cannot_start, None, name="test worker")
    with pipes, pytest.raises(WorkerDied, match="test worker 1 ended with exit status 1") as died:
        pipes.result(pipes.submit(("echo", 1)))
    assert died.value.exitcode == 1
    assert not died.value.killed, "its own error ended it"


def test_close_kills_a_worker_still_busy_after_the_grace_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_pipes, "STOP_SECONDS", 0.5)
    pipes: WorkerPipes[Task, tuple[str, int, int | bytes]] = WorkerPipes(1, serve, "hello")
    pipes.result(pipes.submit(("echo", 0)))  # started
    pipes.submit(("sleep", 600))
    (process,) = pipes.processes

    pipes.close()

    assert process.exitcode == -signal.SIGKILL, "a worker that cannot notice its pipe closed is killed"
