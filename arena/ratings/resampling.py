"""Bootstrap resamples of vote counts: exact multinomial draws, fast and seed-reproducible.

Resampling ``n`` battles with replacement is the same as drawing the counts of their
``(pair, outcome)`` cells from a multinomial with ``n`` trials and the observed frequencies.
:class:`Multinomial` draws it exactly, several times faster than ``Generator.multinomial``:
independent Poisson counts whose total has a mean two standard deviations below ``n`` (a
round that overshoots ``n`` is redrawn), topped up to exactly ``n`` by categorical draws.
Given its total ``m``, a Poisson vector is multinomial(``m``), and adding ``n - m``
independent draws makes it multinomial(``n``). Poisson and categorical draws invert tables
with guide tables (:class:`_PoissonTable`, :func:`_guide`), fed by 53-bit uniforms from
the generator's bit stream, so a seed gives the same samples everywhere.
"""

from __future__ import annotations

import math

import numpy as np

_SLACK_SD = 2.0  # Poisson total mean sits this many standard deviations below n
_GUIDE_PER_ENTRY = 8  # guide-table buckets per table entry (at least)


class Multinomial:
    """Multinomial count vectors with the observed frequencies, ``(size, k)`` per draw.

    Args:
        observed: int counts ``(k,)``, at least one of them positive; draws are
            multinomial(``n = observed.sum()``, ``observed / n``).
    """

    def __init__(self, observed: np.ndarray) -> None:
        observed = np.asarray(observed, dtype=np.int64)
        self.n = n = int(observed.sum())
        self.k = k = observed.size
        scale = max(n - _SLACK_SD * math.sqrt(n), 0.0) / n
        values, classes = np.unique(observed, return_inverse=True)
        self.table = _PoissonTable.build(values * scale, classes, n)
        self.lam = observed * scale
        # Guide table over the cells for the categorical top-up draws.
        cdf = np.cumsum(observed) / n
        cdf[np.flatnonzero(observed)[-1] :] = np.inf  # never past the last observed cell
        self.cell_bits = max(2, math.ceil(math.log2(_GUIDE_PER_ENTRY * k)))
        self.cell_cdf = cdf
        self.cell_guide = _guide(cdf, self.cell_bits, 0, 0)

    def _poisson(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.table is not None:
            return self.table.draw(rng, size)
        return rng.poisson(self.lam, size=(size, self.k))

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent count vectors, integer ``(size, k)``, each summing to ``n``."""
        counts = self._poisson(rng, size)
        totals = counts.sum(axis=1)
        over = np.flatnonzero(totals > self.n)
        while over.size:  # now and then: redraw the rounds whose Poisson total overshot n
            counts[over] = self._poisson(rng, over.size)
            totals[over] = counts[over].sum(axis=1)
            over = over[totals[over] > self.n]
        deficit = self.n - totals
        m = int(deficit.sum())
        if m:
            uniform = _uniform_bits(rng, m)
            cell = self.cell_guide[uniform >> (53 - self.cell_bits)]
            _refine(cell, uniform, self.cell_cdf, np.zeros(1, dtype=np.int64))
            cell += np.repeat(np.arange(size, dtype=np.int64) * self.k, deficit)
            np.add.at(counts.reshape(-1), cell, np.ones(1, dtype=counts.dtype)[0])
        return counts


def _uniform_bits(rng: np.random.Generator, shape) -> np.ndarray:
    """int64 array of 53 random bits each: ``u * 2**53`` for uniforms ``u`` in ``[0, 1)``."""
    raw = rng.bit_generator.random_raw(shape)
    raw >>= np.uint64(11)
    return raw.view(np.int64)


def _guide(cdf: np.ndarray, bits: int, value_offset: int, index_offset: int) -> np.ndarray:
    """Guide table (Chen and Asau) of ``2**bits`` buckets for inversion of ``cdf``.

    ``cdf`` is nondecreasing and ends with +inf; the answer for a uniform ``u`` is the first
    index whose CDF exceeds ``u``. A bucket's entry is that answer plus ``value_offset`` when
    it is the same for the whole bucket, else ``-1 -`` (the first candidate + ``index_offset``)
    for :func:`_refine`. Bucket edges are exact (a power of two), so is the bucket of ``u``.
    """
    edges = np.arange((1 << bits) + 1) / (1 << bits)
    first = np.searchsorted(cdf, edges[:-1], side="right")
    single = cdf[first] >= edges[1:]
    return np.where(single, first + value_offset, -1 - (first + index_offset))


def _refine(values: np.ndarray, uniform: np.ndarray, cdf: np.ndarray, shift: np.ndarray) -> None:
    """Finish, in place, the guide lookups of flat ``values`` that need a search in ``cdf``.

    ``uniform`` holds the 53-bit uniforms of ``values``; the answer found at CDF index ``i``
    becomes ``i + shift[j % shift.size]`` for flat position ``j``.
    """
    flat_values, flat_uniform = values.reshape(-1), uniform.reshape(-1)
    search = np.flatnonzero(flat_values < 0)
    if not search.size:
        return
    at = -1 - flat_values[search].astype(np.int64)
    u = flat_uniform[search] * 2.0**-53
    todo = np.flatnonzero(cdf[at] <= u)
    while todo.size:  # the answer is the first index whose CDF exceeds u
        at[todo] += 1
        todo = todo[cdf[at[todo]] <= u[todo]]
    flat_values[search] = at + shift[search % shift.size]


class _PoissonTable:
    """Poisson draws by table inversion, for columns that share a few distinct means.

    Each distinct mean gets its CDF over ``mean +- _WIDTH * (sqrt(mean) + 1)`` (the mass
    outside, below 1e-20, is far under the 2**-53 resolution of a uniform variate; it goes to
    the extreme values) and a guide table of ``2**s`` buckets (:func:`_guide`): the top
    ``s`` bits of a 53-bit uniform pick a bucket, which holds the count for most draws.
    """

    _WIDTH = 10.0
    _MAX_ENTRIES = 1 << 21

    cdf: np.ndarray  # all CDFs, concatenated; each ends with +inf
    guide: np.ndarray  # all guide tables, concatenated
    bits_col: np.ndarray  # int64 (k,): 53 - s, the shift giving a column's bucket
    guide_col: np.ndarray  # int64 (k,): where each column's guide table starts
    shift_col: np.ndarray  # int64 (k,): count = cdf index + shift

    @classmethod
    def build(cls, means: np.ndarray, classes: np.ndarray, total: int) -> _PoissonTable | None:
        """Tables for distinct ``means`` ``(m,)``; column ``c`` has mean ``means[classes[c]]``.

        ``total`` bounds the counts the caller will add up (it picks the integer width).
        Returns None when the tables would be too big (then use ``Generator.poisson``).
        """
        spans = []
        for lam in means.tolist():
            half = cls._WIDTH * (math.sqrt(lam) + 1.0)
            lo, hi = (max(0, math.floor(lam - half)), math.ceil(lam + half)) if lam else (0, 0)
            bits = max(2, math.ceil(math.log2(_GUIDE_PER_ENTRY * (hi - lo + 1))))
            spans.append((lo, hi, bits))
        if sum((hi - lo + 1) + (1 << bits) for lo, hi, bits in spans) > cls._MAX_ENTRIES:
            return None
        cdfs, guides, guide_at, bits_of, shifts = [], [], [], [], []
        offset = guide_offset = 0
        for lam, (lo, hi, bits) in zip(means.tolist(), spans, strict=True):
            ks = np.arange(lo, hi + 1, dtype=np.float64)
            # log pmf relative to the mode, from the ratios pmf(k) / pmf(k - 1) = lam / k
            mode = min(max(math.floor(lam), lo), hi) - lo
            log_ratio = np.log(lam / ks[1:]) if lam > 0.0 else np.zeros(0)
            log_pmf = np.concatenate([[0.0], np.cumsum(log_ratio)])
            pmf = np.exp(log_pmf - log_pmf[mode])
            cdf = np.cumsum(pmf) / pmf.sum()
            cdf[-1] = np.inf
            guides.append(_guide(cdf, bits, lo, offset))
            cdfs.append(cdf)
            guide_at.append(guide_offset)
            bits_of.append(53 - bits)
            shifts.append(lo - offset)
            offset += ks.size
            guide_offset += 1 << bits
        table = cls()
        table.cdf = np.concatenate(cdfs)
        small = max(offset, total) < 1 << 31  # then int32: a smaller table, faster lookups
        table.guide = np.concatenate(guides).astype(np.int32 if small else np.int64)
        table.bits_col = np.asarray(bits_of, dtype=np.int64)[classes]
        table.guide_col = np.asarray(guide_at, dtype=np.int64)[classes]
        table.shift_col = np.asarray(shifts, dtype=np.int64)[classes]
        return table

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Integer ``(size, k)`` Poisson counts (int32 when they fit), one row per draw."""
        uniform = _uniform_bits(rng, (size, self.bits_col.size))
        bucket = uniform >> self.bits_col
        bucket += self.guide_col
        counts = self.guide[bucket]
        _refine(counts, uniform, self.cdf, self.shift_col)
        return counts


class VoteResampler:
    """Bootstrap counts of the ``k`` (pair, outcome) cells from resampling *votes*.

    A vote that yields several pairwise outcomes (a ranking of four images gives six) is
    drawn whole: votes with the same set of outcomes (their *pattern*) are interchangeable,
    so a round draws multinomial counts of the distinct patterns (:class:`Multinomial`) and
    adds up their cells. When every vote has one outcome, patterns are cells.

    Args:
        cell: int ``(m,)``, the cell of each outcome, in ``[0, k)``.
        vote: int ``(m,)``, the vote of each outcome, or None (one vote per outcome).
        k: number of cells.
    """

    def __init__(self, cell: np.ndarray, vote: np.ndarray | None, k: int) -> None:
        cell = np.asarray(cell, dtype=np.int64).ravel()
        self.k = k
        self.entry_pattern: np.ndarray | None = None
        if vote is not None:
            vote = np.asarray(vote).ravel()
            if vote.shape != cell.shape:
                raise ValueError("vote must have one entry per outcome")
            order = np.lexsort((cell, vote))
            v, c = vote[order], cell[order]
            starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
            lengths = np.diff(np.r_[starts, v.size])
            if lengths.max(initial=1) > 1:
                self._patterns(c, starts, lengths)
                return
        self.sampler = Multinomial(np.bincount(cell, minlength=k))

    def _patterns(self, cells: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
        """Count the distinct patterns and index their cells (``cells`` grouped by vote)."""
        votes = starts.size
        table = np.full((votes, int(lengths.max())), -1, dtype=np.int64)
        column = np.arange(cells.size) - np.repeat(starts, lengths)
        table[np.repeat(np.arange(votes), lengths), column] = cells
        patterns, of_vote = np.unique(table, axis=0, return_inverse=True)
        self.sampler = Multinomial(np.bincount(of_vote.ravel(), minlength=patterns.shape[0]))
        pattern, slot = np.nonzero(patterns >= 0)
        entry_cell = patterns[pattern, slot]
        order = np.argsort(entry_cell, kind="stable")
        self.entry_pattern = pattern[order]
        sorted_cells = entry_cell[order]
        self.entry_starts = np.flatnonzero(np.r_[True, sorted_cells[1:] != sorted_cells[:-1]])
        self.entry_cells = sorted_cells[self.entry_starts]

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` resamples: integer cell counts ``(size, k)``."""
        counts = self.sampler.draw(rng, size)
        if self.entry_pattern is None:
            return counts
        out = np.zeros((size, self.k), dtype=np.int64)
        out[:, self.entry_cells] = np.add.reduceat(
            counts[:, self.entry_pattern], self.entry_starts, axis=1
        )
        return out
