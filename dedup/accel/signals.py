"""Hold SIGINT/SIGTERM while a block runs that must not be cut short, deliver them after.

numba compiles and loads machine code through llvmlite; a ``KeyboardInterrupt`` raised in
the middle of that leaves LLVM objects half built, and the interpreter then crashes on
exit (rc -11) instead of cleaning up. Inside :func:`signals_deferred` a signal is only
noted; when the block ends the previous handlers come back and each noted signal is
handed to its handler once (Ctrl-C then raises ``KeyboardInterrupt`` as usual).
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List

_SIGNALS = (int(signal.SIGINT), int(signal.SIGTERM))


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Defer SIGINT and SIGTERM until the block ends (main thread only: elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: List[int] = []
    previous: Dict[int, Any] = {}

    def hold(signum: int, frame: Any) -> None:
        caught.append(signum)

    try:
        for signum in _SIGNALS:
            previous[signum] = signal.signal(signum, hold)
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        for number in dict.fromkeys(caught):  # each signal once, in arrival order
            handler = previous.get(number)
            if callable(handler):
                handler(number, None)  # e.g. signal.default_int_handler: KeyboardInterrupt
            elif handler != signal.SIG_IGN:
                signal.raise_signal(number)  # the default action, now that it is back
