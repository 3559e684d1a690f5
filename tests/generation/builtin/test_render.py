"""Tests for the offline builtin renderer: determinism, sizes, per-model style, prompt response."""

from __future__ import annotations

import hashlib
import io
import itertools
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from arena.generation.builtin.render import render, render_png
from arena.generation.builtin.style import model_style

ROOT = Path(__file__).resolve().parents[2]
MODELS = ["stable-diffusion-xl", "flux-dev", "dalle-3", "midjourney-v6", "imagen-3", "m7"]
SMALL = {"width": 128, "height": 128}


def _pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"), dtype=np.float32)


def _mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(_pixels(a) - _pixels(b)).mean())


def _png_chunk_types(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    types, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        types.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return types


def test_render_png_is_byte_identical_for_same_inputs() -> None:
    args = ("flux-dev", "a red fox under a golden moon")
    kwargs = {"negative_prompt": "blurry", "seed": 42, "width": 200, "height": 150}
    assert render_png(*args, **kwargs) == render_png(*args, **kwargs)


def test_render_png_is_byte_identical_across_processes() -> None:
    code = (
        "import hashlib, sys\n"
        "from arena.generation.builtin.render import render_png\n"
        "data = render_png('dalle-3', 'a teal whale and a lighthouse', negative_prompt='fog',"
        " seed=7, width=160, height=96)\n"
        "sys.stdout.write(hashlib.sha256(data).hexdigest())\n"
    )
    here = render_png(
        "dalle-3",
        "a teal whale and a lighthouse",
        negative_prompt="fog",
        seed=7,
        width=160,
        height=96,
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "12345", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout == hashlib.sha256(here).hexdigest()


@pytest.mark.parametrize(
    ("width", "height"),
    [(64, 64), (512, 512), (1000, 562), (97, 333), (4096, 64), (64, 4096), (255, 257)],
)
def test_render_honours_requested_size(width: int, height: int) -> None:
    img = render("midjourney-v6", "a castle by the sea", width=width, height=height)
    assert img.mode == "RGB"
    assert img.size == (width, height)


def test_render_png_honours_requested_size() -> None:
    data = render_png("imagen-3", "three birds", width=1000, height=562)
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG"
        assert img.size == (1000, 562)
        assert img.mode == "RGB"


@pytest.mark.parametrize(
    ("width", "height"), [(63, 512), (512, 63), (4097, 512), (512, 4097), (0, 0), (-64, 128)]
)
def test_render_rejects_out_of_range_size(width: int, height: int) -> None:
    with pytest.raises(ValueError, match="between 64 and 4096"):
        render("flux-dev", "a cat", width=width, height=height)
    with pytest.raises(ValueError, match="between 64 and 4096"):
        render_png("flux-dev", "a cat", width=width, height=height)


def test_render_png_decodes_to_rendered_pixels() -> None:
    kwargs = {"seed": 3, "width": 301, "height": 177}
    img = render("ideogram-v2", "a neon city skyline at night", **kwargs)
    data = render_png("ideogram-v2", "a neon city skyline at night", **kwargs)
    with Image.open(io.BytesIO(data)) as decoded:
        assert np.array_equal(np.asarray(decoded.convert("RGB")), np.asarray(img))


def test_render_png_has_no_metadata() -> None:
    data = render_png("flux-dev", "a quiet harbour at dawn", width=96, height=96)
    assert _png_chunk_types(data) == [b"IHDR", b"IDAT", b"IEND"]
    with Image.open(io.BytesIO(data)) as img:
        assert img.info == {} or set(img.info) <= {"dpi", "gamma"}
        assert not getattr(img, "text", {})
    for needle in (b"flux-dev", b"harbour", b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
        assert needle not in data


def test_render_different_models_look_clearly_different() -> None:
    prompt = "a lighthouse on a cliff above a stormy sea"
    images = {m: render(m, prompt, **SMALL) for m in MODELS}
    for a, b in itertools.combinations(MODELS, 2):
        assert _mean_abs_diff(images[a], images[b]) > 12.0, (a, b)


def test_render_different_prompts_look_different() -> None:
    for model in MODELS:
        a = render(model, "a cat in a garden", **SMALL)
        b = render(model, "a spaceship near a planet", **SMALL)
        assert _mean_abs_diff(a, b) > 5.0, model


def test_render_seed_changes_image() -> None:
    for model in MODELS:
        a = render(model, "a cat in a garden", seed=1, **SMALL)
        b = render(model, "a cat in a garden", seed=2, **SMALL)
        assert _mean_abs_diff(a, b) > 2.0, model


def test_render_colour_word_shifts_mean_colour() -> None:
    for model in [*MODELS, *(f"model-{i}" for i in range(10))]:
        red = _pixels(render(model, "a crimson landscape", **SMALL)).mean(axis=(0, 1))
        blue = _pixels(render(model, "an azure landscape", **SMALL)).mean(axis=(0, 1))
        assert red[0] - blue[0] > 10.0, model
        assert blue[2] - red[2] > 3.0, model


def test_render_negative_prompt_removes_motif() -> None:
    for model in MODELS:
        without = render_png(model, "a cat and a tower", negative_prompt="tower", **SMALL)
        assert without == render_png(model, "a cat", **SMALL), model
        assert without != render_png(model, "a cat and a tower", **SMALL), model


def test_render_negative_colour_suppresses_that_colour() -> None:
    for model in MODELS:
        plain = _pixels(render(model, "a red rose garden", **SMALL)).mean(axis=(0, 1))
        negated = _pixels(render(model, "a red rose garden", negative_prompt="red", **SMALL)).mean(
            axis=(0, 1)
        )
        assert plain[0] - negated[0] > 5.0, model


def test_render_accepts_empty_prompt() -> None:
    img = render("flux-dev", "", **SMALL)
    assert img.size == (128, 128)
    assert _pixels(img).std() > 5.0  # a picture, not a flat fill


def test_model_style_is_stable_and_skill_is_bounded() -> None:
    styles = [model_style(f"model-{i}") for i in range(50)]
    assert all(0.0 <= s.skill <= 1.0 for s in styles)
    assert model_style("flux-dev") == model_style("flux-dev")
    assert len({s.skill for s in styles}) > 40
    assert len({s.background for s in styles}) >= 5
