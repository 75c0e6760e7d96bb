"""A numpy array that grows by appending (amortized doubling), for index columns."""

from __future__ import annotations

import numpy as np


class GrowableArray:
    def __init__(self, dtype, capacity: int = 1024) -> None:
        self._data = np.empty(capacity, dtype=dtype)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        return self._size * self._data.itemsize

    def extend(self, values: np.ndarray) -> None:
        need = self._size + len(values)
        if need > len(self._data):
            capacity = max(need, 2 * len(self._data))
            try:
                # In place when nothing else refers to the buffer (no view is out): realloc
                # remaps large buffers instead of copying them into fresh pages.
                self._data.resize(capacity, refcheck=True)
            except (ValueError, SystemError):
                grown = np.empty(capacity, dtype=self._data.dtype)
                grown[:self._size] = self._data[:self._size]
                self._data = grown
        self._data[self._size:need] = values
        self._size = need

    @property
    def view(self) -> np.ndarray:
        return self._data[:self._size]
