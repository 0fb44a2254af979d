"""BAT's transfer-thread base, without its half-second polls.

BAT's `FileTransferer` waits for queued files and for its own end in 0.5 s polls: `join()`
returns only after half a second without progress events and `iter_queue()` notices the end
of the queue up to half a second late. That is a fixed second per pack, longer than copying
500 MB takes. Our transfer objects report progress themselves (not through BAT's callback
queue), so they can join the thread directly and poll the queue briefly.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Iterator, Optional

from .bat import bat_transfer

POLL = 0.02  # seconds: how late the end of the queue is noticed at most


class PromptTransferer(bat_transfer.FileTransferer):  # type: ignore[misc]
    def iter_queue(self) -> Iterator[Any]:
        while not (self._abort.is_set() or self.has_error):
            try:
                item = self.queue.get(timeout=POLL)
            except queue.Empty:
                if self.done.is_set():
                    return
                continue
            self.progress_cb.transfer_file(item[0], item[1])
            yield item

    def join(self, timeout: Optional[float] = None) -> None:
        threading.Thread.join(self, timeout)
        self.progress_cb.flush()  # BAT's own queued events, without waiting for more
