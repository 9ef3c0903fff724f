"""The world's side of uniqueness: which cells a cell must differ from, and which cells its answer needs.

Cell c must differ from every cell within Chebyshev distance r (max(|dx|, |dy|) <= r) that has
a higher priority. So of any two cells within r, the lower one yields, and no pair is a
near-duplicate. The answer for c depends only on the cells reachable from c by steps to
higher-priority cells within r (``closure``), found from keys alone, so it is the same whichever
cells were asked for before; they are decided in decreasing priority. Priority is::

    (-phase, key, y, x) compared lexicographically,   m = r + 1,   u = y mod m,   v = x mod m,
    phase = u m + (v if u is even else m - 1 - v)       (the m x m phases in snake order)

Two cells of one phase are never within r of each other, so a chain of cells, each yielding to
the next, climbs through at most m^2 phases: the closure is bounded. For r = 1 it holds 1, 3, 7
or 13 cells by phase, 6 on average (row-major phases give 1, 3, 11, 17; priority = key alone
averages 15 cells and reaches 80 or more). Within a phase the key decides, so which cells
yield stays random.
"""

from collections import OrderedDict

import numpy as np
from numba import njit


@njit(cache=True)
def _phase(row, col, origin_y, origin_x, r):
    """The phase of the window cell (row, col), see the module docstring; Python's mod, never negative."""
    m = r + 1
    u, v = (origin_y + row) % m, (origin_x + col) % m
    return u * m + (v if u % 2 == 0 else m - 1 - v)


@njit(cache=True)
def _higher(P, a0, a1, b0, b1, origin_y, origin_x, r):
    """Cell (b0, b1) outranks cell (a0, a1): priority = (-phase, key, row, column), lexicographic."""
    pa, pb = _phase(a0, a1, origin_y, origin_x, r), _phase(b0, b1, origin_y, origin_x, r)
    if pa != pb:
        return pb < pa
    if P[b0, b1] != P[a0, a1]:
        return P[b0, b1] > P[a0, a1]
    return (b0, b1) > (a0, a1)


@njit(cache=True)
def closure(P, origin_y, origin_x, starts, known, r):
    """The cells reachable from ``starts`` by steps to higher-priority cells within Chebyshev r.

    P (h, w) uint64 keys of a window whose cell (row, col) is (x, y) = (origin_x + col, origin_y + row);
    starts (s, 2) window (row, col);
    known (h, w) bool: cells already decided, which are included but not expanded.
    Returns (cells (m, 2) in decreasing priority, higher (m, (2r+1)^2 - 1) indices into cells of each
    cell's higher neighbours padded with -1, reached_edge): reached_edge means a cell within r of the
    window's edge needed expanding, so the window was too small and nothing else is valid.
    """
    h, w = P.shape
    index = -np.ones((h, w), dtype=np.int64)
    cells = np.empty((h * w, 2), dtype=np.int64)
    m = 0
    for s in range(starts.shape[0]):
        a0, a1 = starts[s, 0], starts[s, 1]
        if index[a0, a1] < 0:
            index[a0, a1] = m
            cells[m, 0], cells[m, 1] = a0, a1
            m += 1
    head = 0
    while head < m:
        a0, a1 = cells[head, 0], cells[head, 1]
        head += 1
        if known[a0, a1]:
            continue
        if a0 < r or a1 < r or a0 + r >= h or a1 + r >= w:
            return cells[:0], np.empty((0, 0), dtype=np.int64), True
        for b0 in range(a0 - r, a0 + r + 1):
            for b1 in range(a1 - r, a1 + r + 1):
                if index[b0, b1] < 0 and _higher(P, a0, a1, b0, b1, origin_y, origin_x, r):
                    index[b0, b1] = m
                    cells[m, 0], cells[m, 1] = b0, b1
                    m += 1
    cells = cells[:m]
    phases = np.empty(m, dtype=np.int64)
    keys = np.empty(m, dtype=np.uint64)
    for i in range(m):
        phases[i] = _phase(cells[i, 0], cells[i, 1], origin_y, origin_x, r)
        keys[i] = P[cells[i, 0], cells[i, 1]]
    order = np.arange(m)  # stable sorts from the least significant part of (-phase, key, row, col) up
    for part in (cells[:, 1].copy(), cells[:, 0].copy()):
        order = order[np.argsort(part[order], kind="mergesort")]
    order = order[np.argsort(keys[order], kind="mergesort")]
    order = order[np.argsort(-phases[order], kind="mergesort")]
    cells = cells[order[::-1]]  # decreasing priority
    for i in range(m):
        index[cells[i, 0], cells[i, 1]] = i
    side = 2 * r + 1
    higher = -np.ones((m, side * side - 1), dtype=np.int64)
    for i in range(m):
        a0, a1 = cells[i, 0], cells[i, 1]
        if known[a0, a1]:
            continue
        c = 0
        for b0 in range(a0 - r, a0 + r + 1):
            for b1 in range(a1 - r, a1 + r + 1):
                if _higher(P, a0, a1, b0, b1, origin_y, origin_x, r):
                    higher[i, c] = index[b0, b1]
                    c += 1
    return cells, higher, False


class CellCache:
    """The final choice (attempt, features) of recently decided cells, least recently used out first.

    Caching changes no answer (a cell's sprite is a function of the keys), only how much is decoded.
    """

    def __init__(self, capacity=1 << 16):
        self.capacity = int(capacity)
        self.entries = OrderedDict()

    def get(self, key):
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key, value):
        self.entries[key] = value
        self.entries.move_to_end(key)
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)

    def clear(self):
        self.entries.clear()
