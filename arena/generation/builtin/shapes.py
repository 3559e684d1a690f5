"""Motif shapes: each kind of motif as filled, cut and stroked primitives in a unit box."""

from __future__ import annotations

import math

import numpy as np

Prim = tuple[str, np.ndarray, float]  # ("fill" | "cut" | "line", points, relative width)

_POLYGON_SIDES = {"triangle": 3, "square": 4, "cube": 4, "pentagon": 5, "hexagon": 6}


def _circle(cx: float, cy: float, r: float, n: int = 48, ry: float | None = None) -> np.ndarray:
    a = np.linspace(0, 2 * math.pi, n, endpoint=False)
    return np.stack([cx + r * np.cos(a), cy + (ry if ry is not None else r) * np.sin(a)], 1)


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def motif_shape(kind: str, word: str, wr: np.random.Generator) -> tuple[list[Prim], float]:
    """Primitives in a unit box (y down) and the horizontal stretch of the kind."""
    F, C, L = "fill", "cut", "line"
    if kind == "circle":
        return [(F, _circle(0, 0, 1), 0)], 1.0
    if kind == "ring":
        return [(F, _circle(0, 0, 1), 0), (C, _circle(0, 0, float(wr.uniform(0.45, 0.7))), 0)], 1.0
    if kind == "polygon":
        n = _POLYGON_SIDES.get(word) or int(wr.integers(3, 9))
        a = np.linspace(0, 2 * math.pi, n, endpoint=False) + float(wr.uniform(0, math.pi))
        return [(F, np.stack([np.cos(a), np.sin(a)], 1), 0)], 1.0
    if kind == "star":
        n = int(wr.integers(5, 9))
        inner = float(wr.uniform(0.38, 0.55))
        a = np.linspace(0, 2 * math.pi, 2 * n, endpoint=False) - math.pi / 2
        r = np.where(np.arange(2 * n) % 2 == 0, 1.0, inner)
        return [(F, np.stack([r * np.cos(a), r * np.sin(a)], 1), 0)], 1.0
    if kind == "arc":
        a0 = float(wr.uniform(0, 2 * math.pi))
        span = float(wr.uniform(0.8, 1.6)) * math.pi
        a = np.linspace(a0, a0 + span, 40)
        pts = np.stack([0.85 * np.cos(a), 0.85 * np.sin(a)], 1)
        return [(L, pts, float(wr.uniform(0.14, 0.3)))], 1.0
    if kind == "crescent":
        return [(F, _circle(0, 0, 1), 0), (C, _circle(0.42, -0.22, 0.88), 0)], 1.0
    if kind == "figure":
        body = np.array([[-0.32, -0.38], [0.32, -0.38], [0.2, 0.3], [-0.2, 0.3]])
        return [
            (F, _circle(0, -0.66, 0.22, 32), 0),
            (F, body, 0),
            (L, np.array([[-0.1, 0.25], [-0.2, 1.0]]), 0.14),
            (L, np.array([[0.1, 0.25], [0.2, 1.0]]), 0.14),
            (L, np.array([[-0.3, -0.34], [-0.55, 0.15]]), 0.11),
            (L, np.array([[0.3, -0.34], [0.55, 0.15]]), 0.11),
        ], 1.0
    if kind == "tree":
        trunk = (F, _rect(-0.09, 0.1, 0.09, 1.0), 0)
        if wr.random() < 0.5:
            return [trunk, (F, _circle(0, -0.25, 0.62, 40), 0)], 1.0
        tiers = [
            (
                F,
                np.array(
                    [
                        [-0.6 + 0.1 * i, 0.3 - 0.4 * i],
                        [0, -0.5 - 0.4 * i],
                        [0.6 - 0.1 * i, 0.3 - 0.4 * i],
                    ]
                ),
                0,
            )
            for i in range(3)
        ]
        return [trunk, *tiers], 1.0
    if kind == "mountain":
        n = int(wr.integers(2, 5))
        xs = np.linspace(-1, 1, 2 * n + 1)
        ys = np.where(np.arange(2 * n + 1) % 2 == 1, -wr.uniform(0.4, 1.0, 2 * n + 1), 0.4)
        pts = np.concatenate([np.stack([xs, ys], 1), [[1, 1], [-1, 1]]])
        return [(F, pts, 0)], 2.2
    if kind == "house":
        return [
            (F, _rect(-0.6, -0.1, 0.6, 1.0), 0),
            (F, np.array([[-0.8, -0.05], [0, -0.8], [0.8, -0.05]]), 0),
            (C, _rect(-0.15, 0.45, 0.15, 1.0), 0),
            (C, _rect(0.3, 0.15, 0.48, 0.33), 0),
        ], 1.0
    if kind == "city":
        n = int(wr.integers(5, 9))
        edges = np.linspace(-1, 1, n + 1)
        prims: list[Prim] = []
        for i in range(n):
            top = float(wr.uniform(-0.9, 0.3))
            prims.append((F, _rect(edges[i] + 0.02, top, edges[i + 1] - 0.02, 1.0), 0))
        return prims, 2.0
    if kind == "tower":
        prims = [
            (F, _rect(-0.25, -0.75, 0.25, 1.0), 0),
            (F, np.array([[-0.32, -0.7], [0, -1.0], [0.32, -0.7]]), 0),
        ]
        prims += [(C, _rect(-0.08, -0.5 + 0.35 * i, 0.08, -0.35 + 0.35 * i), 0) for i in range(4)]
        return prims, 1.0
    if kind == "sun":
        prims = [(F, _circle(0, 0, 0.55), 0)]
        n = int(wr.integers(8, 16))
        d = math.pi / n * 0.45
        for a in np.linspace(0, 2 * math.pi, n, endpoint=False):
            angles = np.array([a - d, a, a + d])
            radii = np.array([0.68, 1.0, 0.68])
            ray = np.stack([radii * np.cos(angles), radii * np.sin(angles)], 1)
            prims.append((F, ray, 0))
        return prims, 1.0
    if kind == "planet":
        ring = _circle(0, 0, 1.0, 48, ry=0.28)
        return [(F, _circle(0, 0, 0.58), 0), (L, np.concatenate([ring, ring[:1]]), 0.06)], 1.0
    if kind == "flower":
        n = int(wr.integers(5, 9))
        prims = [(L, np.array([[0, 0.2], [0.05, 1.0]]), 0.08)]
        for i in range(n):
            a = 2 * math.pi * i / n
            e = _circle(0.33, 0, 0.33, 24, ry=0.16)
            rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
            prims.append((F, e @ rot.T + [0, -0.35], 0))
        prims.append((C, _circle(0, -0.35, 0.11, 20), 0))
        return prims, 1.0
    if kind == "heart":
        tt = np.linspace(0, 2 * math.pi, 60, endpoint=False)
        hx = 16 * np.sin(tt) ** 3 / 17
        hy = -(13 * np.cos(tt) - 5 * np.cos(2 * tt) - 2 * np.cos(3 * tt) - np.cos(4 * tt)) / 17
        return [(F, np.stack([hx, hy], 1), 0)], 1.0
    if kind == "bird":
        pts = np.array([[-1, -0.1], [-0.5, -0.45], [0, 0.05], [0.5, -0.45], [1, -0.1]])
        return [(L, pts, 0.12)], 1.0
    if kind == "fish":
        return [
            (F, _circle(-0.15, 0, 0.7, 40, ry=0.4), 0),
            (F, np.array([[0.45, 0], [1.0, -0.45], [1.0, 0.45]]), 0),
            (C, _circle(-0.5, -0.08, 0.08, 16), 0),
        ], 1.2
    if kind == "cloud":
        prims = [
            (F, _circle(cx, cy, r, 32), 0)
            for cx, cy, r in ((-0.5, 0.1, 0.4), (0.0, -0.15, 0.55), (0.5, 0.1, 0.42))
        ]
        prims.append((F, _rect(-0.5, 0.1, 0.5, 0.5), 0))
        return prims, 1.4
    if kind == "wave":
        xs = np.linspace(-1, 1, 48)
        ph = float(wr.uniform(0, 6.3))
        return [
            (L, np.stack([xs, 0.3 * k - 0.3 + 0.15 * np.sin(xs * 7 + ph + k)], 1), 0.1)
            for k in range(3)
        ], 2.2
    if kind == "animal":
        return [
            (F, _circle(0, 0.1, 0.6, 40, ry=0.32), 0),
            (F, _circle(-0.62, -0.3, 0.24, 28), 0),
            (F, np.array([[-0.8, -0.45], [-0.75, -0.72], [-0.62, -0.5]]), 0),
            (F, np.array([[-0.5, -0.5], [-0.42, -0.74], [-0.36, -0.45]]), 0),
            *[(L, np.array([[lx, 0.3], [lx, 0.9]]), 0.1) for lx in (-0.4, -0.2, 0.25, 0.45)],
            (L, np.array([[0.55, 0.0], [0.8, -0.25], [0.9, -0.5]]), 0.08),
        ], 1.2
    if kind == "boat":
        return [
            (F, np.array([[-1, 0.4], [1, 0.4], [0.7, 0.8], [-0.7, 0.8]]), 0),
            (F, np.array([[0.05, -0.9], [0.05, 0.3], [0.75, 0.3]]), 0),
            (F, np.array([[-0.05, -0.6], [-0.05, 0.3], [-0.6, 0.3]]), 0),
        ], 1.2
    if kind == "eye":
        tt = np.linspace(-1, 1, 24)
        top = np.stack([tt, -0.5 * (1 - tt**2)], 1)
        bottom = np.stack([tt[::-1], 0.5 * (1 - tt[::-1] ** 2)], 1)
        return [
            (F, np.concatenate([top, bottom]), 0),
            (C, _circle(0, 0, 0.36, 32), 0),
            (F, _circle(0, 0, 0.18, 24), 0),
        ], 1.4
    if kind == "leaf":
        tt = np.linspace(-1, 1, 24)
        top = np.stack([tt, -0.45 * (1 - tt**2)], 1)
        bottom = np.stack([tt[::-1], 0.45 * (1 - tt[::-1] ** 2)], 1)
        return [
            (F, np.concatenate([top, bottom]), 0),
            (L, np.array([[-0.95, 0], [0.8, 0]]), 0.05),
        ], 1.3
    if kind == "spiral":
        tt = np.linspace(0, 5 * math.pi, 90)
        r = tt / tt[-1]
        return [(L, np.stack([r * np.cos(tt), r * np.sin(tt)], 1), 0.1)], 1.0
    if kind == "diamond":
        return [(F, np.array([[0, -1], [0.62, 0], [0, 1], [-0.62, 0]]), 0)], 1.0
    return [(F, _circle(0, 0, 1), 0)], 1.0
