"""Benchmark the builtin renderer on one core: images per second at 512x512 and 1024x1024.

Run from the repository root: ``.venv/bin/python bench/builtin_render.py [--count N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from arena.generation.builtin.render import render_png  # noqa: E402

MODELS = (
    "stable-diffusion-xl",
    "flux-dev",
    "flux-schnell",
    "dalle-3",
    "midjourney-v6",
    "imagen-3",
    "ideogram-v2",
    "recraft-v3",
)
SUBJECTS = (
    "a crimson fox in a snowy forest at dusk",
    "azure ocean waves under a golden sun",
    "an astronaut riding a horse on the moon",
    "a minimal teal city skyline at night",
    "a lighthouse on a cliff above a stormy sea",
    "a bowl of ripe oranges on a wooden table",
    "neon koi fish swimming through violet clouds",
    "a tiny cottage beside an emerald lake, mountains behind",
    "portrait of a wizard holding a glowing silver orb",
    "abstract spiral of pink and gold petals",
)
NEGATIVES = (None, "blurry, low quality", "red", "people")


def _pin_one_core() -> str:
    """Pin this process to its first allowed CPU where the OS allows it."""
    if hasattr(os, "sched_getaffinity") and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"cpu {cpu}"
    return "unpinned"


def _jobs(count: int, salt: int) -> list[tuple[str, str, str | None, int]]:
    jobs = []
    for i in range(count):
        model = MODELS[i % len(MODELS)]
        prompt = f"{SUBJECTS[(i * 7 + salt) % len(SUBJECTS)]}, variation {i // len(SUBJECTS)}"
        jobs.append((model, prompt, NEGATIVES[i % len(NEGATIVES)], 1000 * salt + i))
    return jobs


def _run(jobs: list[tuple[str, str, str | None, int]], size: int) -> int:
    total = 0
    for model, prompt, negative, seed in jobs:
        data = render_png(
            model, prompt, negative_prompt=negative, seed=seed, width=size, height=size
        )
        total += len(data)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60, help="images per size (default 60)")
    args = parser.parse_args()
    where = _pin_one_core()
    with threadpool_limits(1):
        _run(_jobs(6, salt=99), 256)  # warm up imports, caches and allocators
        for size in (512, 1024):
            jobs = _jobs(args.count, salt=size)
            start = time.perf_counter()
            total = _run(jobs, size)
            elapsed = time.perf_counter() - start
            print(
                f"builtin render {size}x{size}: {len(jobs) / elapsed:.1f} images/s "
                f"({len(jobs)} images, {elapsed:.2f} s, one core, {where}, "
                f"{total / len(jobs) / 1024:.0f} KiB/png)"
            )


if __name__ == "__main__":
    main()
