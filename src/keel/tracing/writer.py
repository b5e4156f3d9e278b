"""The trace writer: one thread that group-commits span batches, with bounded memory.

Requests hand decoded rows to `submit` and wait for the commit; the writer takes everything queued (up to
`KEEL_TRACE_BATCH_MAX_SPANS`) into one transaction, so many small exports cost one commit. The 200 goes out
only after that commit, so an acknowledged span survives a crash. Keel's own spans (the gateway's) are
submitted in the background, with nobody waiting: for those the writer lingers `KEEL_TRACE_LINGER_MS` to
gather more into the same commit. When more than
`KEEL_TRACE_QUEUE_MAX_SPANS` are waiting, `submit` refuses at once (503 + Retry-After) instead of buffering.

Other features keep their books in the same commit (`keep_books`): the gateway writes the spend of the calls
whose traces these are, so a call's cost costs no transaction of its own.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from keel.core.errors import KeelError
from keel.db.engine import SessionFactory
from keel.tracing import service

log = logging.getLogger("keel.tracing")
Book = Callable[[Any], Callable[[bool], None] | None]  # writes into the session; told if it committed


class Overloaded(KeelError):
    status = 503
    code = "overloaded"
    title = "Trace store is behind"


@dataclass
class _Batch:
    rows: list[dict[str, Any]]
    background: bool = False
    done: Future[int] = field(default_factory=Future)


class TraceWriter:
    def __init__(
        self, sessions: SessionFactory, *, max_queued: int, max_batch: int, linger_s: float = 0.0
    ) -> None:
        self._sessions = sessions
        self._linger_s = linger_s
        self._max_queued = max_queued
        self._max_batch = max_batch
        self._queue: queue.Queue[_Batch | None] = queue.Queue()
        self._queued = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="keel-trace-writer", daemon=True)
        self._stopped = False
        self.committed_spans = 0
        self.rejected_spans = 0  # refused with 503 because the queue was full
        self.commits = 0
        self._books: list[Book] = []

    def keep_books(self, book: Book) -> None:
        """Run `book` in every trace commit, so what it writes commits (or not) with the spans."""
        self._books.append(book)

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit everything already accepted, then stop."""
        with self._lock:
            self._stopped = True
        self._queue.put(None)
        self._thread.join(timeout)

    def submit(self, rows: list[dict[str, Any]], *, background: bool = False) -> Future[int]:
        with self._lock:
            if self._stopped:
                raise Overloaded("the trace writer is shutting down; retry shortly", retry_after=1)
            if self._queued + len(rows) > self._max_queued and self._queued:
                self.rejected_spans += len(rows)
                raise Overloaded(
                    f"{self._queued} spans are waiting to be stored; retry shortly", retry_after=1
                )
            self._queued += len(rows)
        batch = _Batch(rows, background)
        self._queue.put(batch)
        return batch.done

    def barrier(self, timeout: float = 10.0) -> None:
        """Return once everything submitted before this call is committed (the queue is FIFO)."""
        self.submit([]).result(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batches, size = [first], len(first.rows)
            if first.background and self._linger_s:
                time.sleep(self._linger_s)
            while size < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batches.append(more)
                size += len(more.rows)
            self._commit(batches)

    def _commit(self, batches: list[_Batch], books: bool = True) -> None:
        rows = [row for batch in batches for row in batch.rows]
        if not rows:  # only barriers
            self._settle(batches, None)
            return
        started = time.perf_counter()
        books = books and bool(self._books)
        written: list[Callable[[bool], None]] = []
        try:
            with self._sessions() as session:
                service.write_spans(session, rows)
                for book in self._books if books else ():
                    if done := book(session):
                        written.append(done)
                session.commit()
        except Exception as exc:
            for done in written:
                done(False)
            if books:  # the books may be what failed: store the spans without them, then the books alone
                self._commit(batches, books=False)
                self._write_books()
                return
            if len(batches) > 1:
                for batch in batches:  # isolate the failing request; the others still land
                    self._commit([batch])
                return
            log.exception("trace batch of %d spans failed", len(rows))
            self._settle(batches, exc)
            return
        for done in written:
            done(True)
        self.committed_spans += len(rows)
        self.commits += 1
        log.debug("committed %d spans in %.1f ms", len(rows), (time.perf_counter() - started) * 1e3)
        self._settle(batches, None)

    def _write_books(self) -> None:
        written: list[Callable[[bool], None]] = []
        try:
            with self._sessions() as session:
                written = [done for book in self._books if (done := book(session))]
                session.commit()
        except Exception:
            log.exception("books kept with the traces could not be written; they stay for the next commit")
            for done in written:
                done(False)
            return
        for done in written:
            done(True)

    def _settle(self, batches: list[_Batch], error: Exception | None) -> None:
        with self._lock:
            self._queued -= sum(len(b.rows) for b in batches)
        for batch in batches:
            if error is None:
                batch.done.set_result(len(batch.rows))
            else:
                batch.done.set_exception(error)
