"""Offline "builtin" image generator: deterministic abstract art, styled per model, led by words."""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import operator
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

__all__ = ["MAX_SIDE", "MIN_SIDE", "ModelStyle", "model_style", "render", "render_png"]

MIN_SIDE = 64
MAX_SIDE = 4096
MAX_MOTIFS = 10

# Hue (0..1), saturation, lightness of the colour words a prompt may use.
_COLOURS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "red": ((0.0, 0.85, 0.5),),
    "crimson": ((0.97, 0.85, 0.42),),
    "scarlet": ((0.01, 0.9, 0.5),),
    "ruby": ((0.96, 0.8, 0.4),),
    "maroon": ((0.99, 0.65, 0.28),),
    "orange": ((0.07, 0.95, 0.55),),
    "amber": ((0.1, 0.95, 0.52),),
    "gold": ((0.13, 0.85, 0.52),),
    "golden": ((0.13, 0.85, 0.52),),
    "yellow": ((0.15, 0.95, 0.55),),
    "lime": ((0.24, 0.8, 0.5),),
    "green": ((0.33, 0.7, 0.42),),
    "emerald": ((0.4, 0.75, 0.4),),
    "jade": ((0.42, 0.55, 0.45),),
    "olive": ((0.17, 0.5, 0.35),),
    "mint": ((0.42, 0.6, 0.72),),
    "teal": ((0.49, 0.75, 0.36),),
    "turquoise": ((0.48, 0.75, 0.52),),
    "cyan": ((0.5, 0.85, 0.5),),
    "aqua": ((0.5, 0.8, 0.55),),
    "azure": ((0.57, 0.85, 0.55),),
    "blue": ((0.61, 0.8, 0.5),),
    "navy": ((0.63, 0.7, 0.25),),
    "cobalt": ((0.62, 0.8, 0.42),),
    "sapphire": ((0.63, 0.8, 0.4),),
    "indigo": ((0.7, 0.6, 0.38),),
    "violet": ((0.77, 0.65, 0.55),),
    "purple": ((0.8, 0.6, 0.42),),
    "lavender": ((0.75, 0.6, 0.78),),
    "magenta": ((0.86, 0.85, 0.55),),
    "fuchsia": ((0.87, 0.85, 0.55),),
    "pink": ((0.93, 0.75, 0.75),),
    "rose": ((0.96, 0.7, 0.62),),
    "brown": ((0.07, 0.5, 0.3),),
    "beige": ((0.1, 0.35, 0.78),),
    "silver": ((0.6, 0.06, 0.75),),
    "grey": ((0.0, 0.0, 0.55),),
    "gray": ((0.0, 0.0, 0.55),),
    "black": ((0.0, 0.0, 0.07),),
    "white": ((0.0, 0.0, 0.95),),
    "ivory": ((0.13, 0.5, 0.92),),
    "neon": ((0.86, 1.0, 0.55), (0.5, 1.0, 0.5)),
    "dusk": ((0.72, 0.45, 0.3), (0.05, 0.7, 0.55)),
    "twilight": ((0.7, 0.5, 0.28), (0.85, 0.45, 0.5)),
    "night": ((0.65, 0.55, 0.12),),
    "midnight": ((0.66, 0.6, 0.1),),
    "sunset": ((0.04, 0.9, 0.55), (0.9, 0.6, 0.5), (0.11, 0.9, 0.6)),
    "sunrise": ((0.09, 0.9, 0.62), (0.95, 0.6, 0.72), (0.58, 0.5, 0.75)),
    "autumn": ((0.06, 0.8, 0.45), (0.1, 0.6, 0.3)),
    "winter": ((0.56, 0.5, 0.85), (0.6, 0.3, 0.95)),
}

# Words that also nudge the palette a little (and still get a motif).
_THEME_TINTS: dict[str, tuple[float, float, float]] = {
    "fire": (0.05, 0.95, 0.5),
    "flame": (0.06, 0.95, 0.5),
    "lava": (0.02, 0.95, 0.45),
    "ocean": (0.58, 0.7, 0.4),
    "sea": (0.55, 0.65, 0.45),
    "forest": (0.33, 0.55, 0.3),
    "jungle": (0.3, 0.65, 0.3),
    "snow": (0.58, 0.25, 0.9),
    "ice": (0.53, 0.5, 0.8),
    "desert": (0.1, 0.6, 0.62),
    "space": (0.7, 0.6, 0.1),
    "galaxy": (0.78, 0.6, 0.2),
}

# Words that change the treatment rather than draw anything.
_MODIFIERS = {
    "dark": "dark",
    "moody": "dark",
    "night": "dark",
    "midnight": "dark",
    "neon": "neon",
    "bright": "bright",
    "light": "bright",
    "sunny": "bright",
    "pastel": "pastel",
    "soft": "pastel",
    "vivid": "vivid",
    "vibrant": "vivid",
    "colorful": "vivid",
    "colourful": "vivid",
    "muted": "muted",
    "faded": "muted",
    "monochrome": "mono",
    "minimal": "minimal",
    "minimalist": "minimal",
    "simple": "minimal",
    "detailed": "detailed",
    "intricate": "detailed",
    "busy": "detailed",
}


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS = _wordset(
    """a an the of in on at with and or to by for from into onto over under above below
    is are was were be been being it its this that these those as very highly ultra super
    some many few one two three several his her their our my your very extremely quite
    photo photograph photorealistic picture image render rendering painting illustration
    style artwork art digital 4k 8k hd uhd hdr high quality resolution best masterpiece
    trending artstation realistic cinematic lighting shot view scene background featuring
    made full wide close up closeup portrait landscape beautiful stunning amazing epic
    no not without beside behind near next through across around between inside outside
    toward towards against along among during upon within while where there here made
    standing sitting lying flying floating walking running"""
)

# Size words scale the motif of the next content word ("a tiny cottage").
_SIZE_WORDS = {
    "tiny": 0.6,
    "small": 0.75,
    "little": 0.75,
    "big": 1.3,
    "large": 1.3,
    "huge": 1.5,
    "giant": 1.6,
    "enormous": 1.6,
}

_QUALITY_NEGATIVES = _wordset(
    "blurry blur noise noisy grainy grain ugly lowres low artifacts artifact jpeg deformed "
    "distorted messy bad worst"
)

_KEYWORD_KINDS: dict[str, str] = {}
for _kind, _words in {
    "figure": "person man woman girl boy child kid people figure astronaut king queen warrior "
    "knight wizard witch robot dancer soldier monk traveler traveller hero princess",
    "tree": "tree forest pine oak palm willow birch jungle wood woods",
    "mountain": "mountain hill peak volcano alps cliff range",
    "house": "house home cottage cabin castle temple church barn hut village",
    "city": "city skyline building town street downtown metropolis",
    "tower": "tower lighthouse skyscraper spire obelisk",
    "sun": "sun sunlight sunshine sunburst",
    "crescent": "moon crescent",
    "planet": "planet saturn jupiter world orb globe",
    "flower": "flower tulip daisy lotus blossom garden bloom sunflower lily orchid",
    "heart": "heart love",
    "bird": "bird eagle crow seagull gull dove swallow raven hawk owl",
    "fish": "fish whale shark dolphin koi goldfish",
    "cloud": "cloud clouds storm fog mist",
    "wave": "wave ocean sea river lake water beach surf tide",
    "animal": "cat dog fox wolf horse lion tiger deer bear animal rabbit kitten puppy cow",
    "boat": "boat ship sailboat yacht canoe",
    "eye": "eye eyes",
    "leaf": "leaf plant leave fern",
    "circle": "circle dot ball bubble",
    "ring": "ring halo portal donut",
    "polygon": "polygon triangle square hexagon pentagon cube crystal gem",
    "star": "star stars sparkle",
    "arc": "arc rainbow bridge arch",
    "spiral": "spiral vortex swirl whirlpool",
    "diamond": "diamond rhombus kite",
}.items():
    for _w in _words.split():
        _KEYWORD_KINDS[_w] = _kind

_GENERIC_KINDS = (
    "circle",
    "ring",
    "polygon",
    "star",
    "arc",
    "crescent",
    "figure",
    "diamond",
    "spiral",
    "leaf",
    "flower",
    "planet",
    "cloud",
    "heart",
)
_POLYGON_SIDES = {"triangle": 3, "square": 4, "cube": 4, "pentagon": 5, "hexagon": 6}
_SKY_KINDS = {"sun", "crescent", "planet", "cloud", "bird"}
_GROUND_KINDS = {"figure", "tree", "house", "tower", "animal", "boat", "flower"}
_BOTTOM_KINDS = {"mountain", "wave", "city"}
_DEPTH = {"mountain": 0, "city": 0, "sun": 1, "crescent": 1, "planet": 1, "cloud": 1, "wave": 2}
_UPRIGHT_KINDS = _GROUND_KINDS | _BOTTOM_KINDS | {"sun", "cloud", "fish", "eye", "heart"}

_BACKGROUNDS = ("gradient", "rings", "stripes", "waves", "cells", "blobs", "plasma", "horizon")
_TREATMENTS = ("solid", "gradient", "outline", "inked", "glow", "shadow", "translucent")
_COMPOSITIONS = ("centered", "thirds", "scatter", "symmetric", "band")
_HARMONIES = (
    (0.0, 0.08, -0.08),
    (0.0, 0.5, 0.05),
    (0.0, 1 / 3, 2 / 3),
    (0.0, 0.42, 0.58),
    (0.0, 0.02, -0.03),
    (0.0, 0.25, 0.5),
)
_WORD_RE = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class ModelStyle:
    """How one model draws: derived from a hash of its id, never from Python's ``hash()``."""

    skill: float  # 0 = muddy, noisy, misplaced; 1 = crisp, balanced, harmonious
    hue: float
    harmony: tuple[float, float, float]
    saturation: float
    tone: str  # "dark", "mid" or "light" background
    background: str
    bg_freq: float
    bg_angle: float
    contour: bool
    treatment: str
    line_weight: float
    composition: str
    motif_scale: float
    rotate: bool
    grain: float
    vignette: float


def _digest(*parts: object) -> bytes:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).digest()


def _rng(*parts: object) -> np.random.Generator:
    seed = int.from_bytes(_digest(*parts)[:16], "big")
    return np.random.Generator(np.random.PCG64(seed))


@lru_cache(maxsize=256)
def model_style(model_id: str) -> ModelStyle:
    """The drawing style of ``model_id`` (stable across processes and machines)."""
    r = _rng("builtin-style-v1", model_id)
    skill = float(r.random())
    return ModelStyle(
        skill=skill,
        hue=float(r.random()),
        harmony=_HARMONIES[int(r.integers(len(_HARMONIES)))],
        saturation=float(r.uniform(0.45, 0.9)),
        tone=("dark", "mid", "light")[int(r.integers(3))],
        background=_BACKGROUNDS[int(r.integers(len(_BACKGROUNDS)))],
        bg_freq=float(r.uniform(0.6, 1.6)),
        bg_angle=float(r.uniform(0, math.pi)),
        contour=bool(r.random() < 0.3),
        treatment=_TREATMENTS[int(r.integers(len(_TREATMENTS)))],
        line_weight=float(r.uniform(0.6, 1.8)),
        composition=_COMPOSITIONS[int(r.integers(len(_COMPOSITIONS)))],
        motif_scale=float(r.uniform(0.85, 1.2)),
        rotate=bool(r.random() < 0.5),
        grain=float(r.uniform(0.0, 1.0)) * (1.0 - skill) ** 1.5,
        vignette=float(r.uniform(0.0, 0.45)),
    )


# --------------------------------------------------------------------------- words


def _stem(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class _Prompt:
    tints: tuple[tuple[float, float, float], ...]  # HSL
    theme_tints: tuple[tuple[float, float, float], ...]
    neg_tints: tuple[tuple[float, float, float], ...]
    modifiers: frozenset[str]
    words: tuple[tuple[str, tuple[float, float, float] | None], ...]  # (stem, colour word HSL)
    scales: tuple[float, ...]  # size factor of each word's motif
    banned_kinds: frozenset[str]
    clean: bool  # negative prompt asks for less noise / blur


def _parse(prompt: str, negative_prompt: str | None) -> _Prompt:
    neg_tokens = [_stem(w) for w in _WORD_RE.findall((negative_prompt or "").lower())]
    neg_set = set(neg_tokens)
    neg_tints = tuple(hsl for w in neg_tokens for hsl in _COLOURS.get(w, ()))
    banned_kinds = frozenset(
        _KEYWORD_KINDS.get(w, w) for w in neg_tokens if w in _KEYWORD_KINDS or w in _GENERIC_KINDS
    )
    tints: list[tuple[float, float, float]] = []
    theme: list[tuple[float, float, float]] = []
    modifiers: set[str] = set()
    words: list[tuple[str, tuple[float, float, float] | None]] = []
    seen: set[str] = set()
    scales: list[float] = []
    pending: tuple[float, float, float] | None = None
    pending_scale = 1.0
    for raw in _WORD_RE.findall((prompt or "").lower()):
        w = _stem(raw)
        if w in neg_set or raw in neg_set:
            pending = None
            continue
        if w in _COLOURS or raw in _COLOURS:
            hsls = _COLOURS.get(w) or _COLOURS[raw]
            tints.extend(hsls)
            pending = hsls[0]
            if raw in _MODIFIERS:  # "neon", "night": a colour and a treatment
                modifiers.add(_MODIFIERS[raw])
            continue
        if raw in _MODIFIERS:
            modifiers.add(_MODIFIERS[raw])
            continue
        if raw in _SIZE_WORDS:
            pending_scale = _SIZE_WORDS[raw]
            continue
        if raw in _STOPWORDS or w in _STOPWORDS or len(w) < 2 or w.isdigit():
            continue
        if w in _THEME_TINTS:
            theme.append(_THEME_TINTS[w])
        if w not in seen and len(words) < MAX_MOTIFS:
            seen.add(w)
            words.append((w, pending))
            scales.append(pending_scale)
        pending = None
        pending_scale = 1.0
    return _Prompt(
        tints=tuple(tints),
        theme_tints=tuple(theme),
        neg_tints=neg_tints,
        modifiers=frozenset(modifiers),
        words=tuple(words),
        scales=tuple(scales),
        banned_kinds=banned_kinds,
        clean=bool(neg_set & _QUALITY_NEGATIVES),
    )


# --------------------------------------------------------------------------- colour


def _hsl(h: float, s: float, li: float) -> np.ndarray:
    return np.array(colorsys.hls_to_rgb(h % 1.0, min(max(li, 0.0), 1.0), min(max(s, 0.0), 1.0)))


def _to_hsl(rgb: np.ndarray) -> tuple[float, float, float]:
    h, li, s = colorsys.rgb_to_hls(*(float(c) for c in np.clip(rgb, 0, 1)))
    return h, s, li


def _hue_dist(a: float, b: float) -> float:
    d = abs(a - b) % 1.0
    return min(d, 1.0 - d)


def _suppress(rgb: np.ndarray, neg: tuple[tuple[float, float, float], ...]) -> np.ndarray:
    """Push a colour away from the negative prompt's colours."""
    if not neg:
        return rgb
    h, s, li = _to_hsl(rgb)
    for nh, ns, nl in neg:
        if ns < 0.15:  # black / white / grey: push lightness away
            if nl < 0.3 and li < 0.35:
                li = 0.35 + (0.35 - li) * 0.5
            elif nl > 0.7 and li > 0.7:
                li = 0.7 - (li - 0.7) * 0.5
            elif 0.3 <= nl <= 0.7 and s < 0.2:
                s = 0.5
        elif s > 0.15 and _hue_dist(h, nh) < 0.1:
            h = (nh + 0.5) % 1.0
    return _hsl(h, s, li)


def _tinted(rgb: np.ndarray, tint: tuple[float, float, float], weight: float) -> np.ndarray:
    li = _to_hsl(rgb)[2]
    th, ts, tl = tint
    target = _hsl(th, ts, 0.45 * li + 0.55 * tl)
    return (1.0 - weight) * rgb + weight * target


@dataclass
class _Palette:
    stops: np.ndarray  # (K, 3) background gradient, float 0..1
    accents: list[np.ndarray]
    ink: np.ndarray  # outline / contour colour


def _palette(style: ModelStyle, p: _Prompt, rng: np.random.Generator) -> _Palette:
    mods = p.modifiers
    tone = style.tone
    if "dark" in mods or "neon" in mods:
        tone = "dark"
    elif "bright" in mods or "pastel" in mods:
        tone = "light"
    lights = {"dark": (0.08, 0.2, 0.34), "mid": (0.3, 0.48, 0.62), "light": (0.62, 0.78, 0.9)}[tone]
    sat = style.saturation
    if "vivid" in mods or "neon" in mods:
        sat = min(1.0, sat + 0.3)
    if "muted" in mods or "pastel" in mods:
        sat *= 0.55
    if "mono" in mods:
        sat *= 0.08
    h0 = style.hue + float(rng.normal(0, 0.015))
    harm = style.harmony
    stops = [
        _hsl(h0 + harm[2] * 0.35, sat * 0.85, lights[0]),
        _hsl(h0, sat, lights[1]),
        _hsl(h0 + harm[1] * 0.3, sat * 0.9, lights[2]),
    ]
    accent_l = {"dark": 0.62, "mid": 0.72, "light": 0.4}[tone]
    accents = [
        _hsl(h0 + off + 0.02 * i, min(1.0, sat + 0.15), accent_l) for i, off in enumerate(harm)
    ]
    accents.append(_hsl(h0 + harm[1] + 0.5, sat, 1.0 - accent_l))
    ink = _hsl(h0 + 0.5, 0.35, 0.06 if tone != "dark" else 0.92)

    all_tints = [*p.tints]
    weight = 0.62
    if not all_tints and p.theme_tints:
        all_tints = [*p.theme_tints]
        weight = 0.35
    if all_tints:
        stops = [_tinted(c, all_tints[i % len(all_tints)], weight) for i, c in enumerate(stops)]
        accents = [
            _tinted(c, all_tints[(i + 1) % len(all_tints)], weight * 0.8)
            for i, c in enumerate(accents)
        ]
    stops = [_suppress(c, p.neg_tints) for c in stops]
    accents = [_suppress(c, p.neg_tints) for c in accents]

    mud = (1.0 - style.skill) ** 1.6 * 0.45
    if mud > 0:
        brown = np.array([0.42, 0.38, 0.32])
        stops = [(1 - mud) * c + mud * brown for c in stops]
        accents = [(1 - mud * 0.7) * c + mud * 0.7 * brown for c in accents]
    return _Palette(
        stops=np.clip(np.array(stops, dtype=np.float32), 0, 1),
        accents=[np.clip(a, 0, 1) for a in accents],
        ink=ink,
    )


# --------------------------------------------------------------------------- background


def _smooth_noise(
    rng: np.random.Generator, lw: int, lh: int, cells: int, aspect: float
) -> np.ndarray:
    """Value noise with about ``cells`` cells along the longer side, centred on zero."""
    gw = max(2, round(cells * min(1.0, aspect)))
    gh = max(2, round(cells * min(1.0, 1.0 / aspect)))
    grid = rng.random((gh, gw), dtype=np.float32)
    img = Image.fromarray(grid).resize((lw, lh), Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float32) - 0.5


def _background(
    style: ModelStyle,
    pal: _Palette,
    rng: np.random.Generator,
    tex: np.random.Generator,
    lw: int,
    lh: int,
    aspect: float,
) -> np.ndarray:
    """Float (lh, lw, 3) background at low resolution.

    ``rng`` drives everything that does not depend on the output size (so a thumbnail has the
    same composition as the full picture); ``tex`` only the per-pixel noise.
    """
    scale = 2.0 / min(lw, lh)
    xs = (np.arange(lw, dtype=np.float32) - (lw - 1) / 2) * scale
    ys = (np.arange(lh, dtype=np.float32) - (lh - 1) / 2) * scale
    x = xs[None, :]
    y = ys[:, None]
    f = style.bg_freq * float(rng.uniform(0.9, 1.1))
    ang = style.bg_angle + float(rng.normal(0, 0.12))
    ca, sa = math.cos(ang), math.sin(ang)
    phase = float(rng.uniform(0, 2 * math.pi))
    skill = style.skill
    crisp = 1.5 + 6.0 * skill
    kind = style.background
    edge = np.ones((lh, lw), dtype=np.float32)
    warp = _smooth_noise(rng, lw, lh, 4, aspect) * (0.25 + 0.5 * (1 - skill))
    if kind == "gradient":
        t = 0.5 + 0.42 * (x * ca + y * sa) + warp * 0.6
    elif kind == "rings":
        cx, cy = rng.uniform(-0.5, 0.5, 2)
        r = np.sqrt((x - cx) ** 2 + (y - cy) ** 2) + warp * 0.3
        t = 0.5 + 0.5 * np.tanh(crisp * 0.5 * np.sin(r * f * 7 + phase))
        t = 0.7 * t + 0.3 * np.clip(1 - r * 0.5, 0, 1)
    elif kind == "stripes":
        s = (x * ca + y * sa) * f * 5 + warp * 2.0 + phase
        t = 0.5 + 0.5 * np.tanh(crisp * 0.4 * np.sin(s))
        t = 0.75 * t + 0.25 * (0.5 + 0.5 * (y / 1.5))
    elif kind == "waves":
        n = 5 + int(f * 3)
        wave = y + 0.12 * np.sin(x * f * 4 + phase) + 0.05 * np.sin(x * f * 9 + 2 * phase)
        band = np.clip((wave + warp * 0.3 + 1.1) / 2.2, 0, 0.999) * n
        gy, gx = np.gradient(band)
        frac = band % 1.0
        # a one-pixel ramp before each step keeps the band edges anti-aliased
        ramp = np.clip((frac - 1.0) / (np.sqrt(gx * gx + gy * gy) * 1.2 + 1e-4) + 1.0, 0, 1)
        t = (np.floor(band) + ramp) / n + 0.06 * frac * (1 - ramp)
    elif kind == "cells":
        n = 10 + int(f * 8)
        pts = rng.uniform(-1.2, 1.2, (n, 2)).astype(np.float32)
        pts[:, 0] *= max(1.0, aspect)
        pts[:, 1] *= max(1.0, 1.0 / aspect)
        vals = rng.random(n).astype(np.float32)
        d = (x[None] - pts[:, 0, None, None]) ** 2 + (y[None] - pts[:, 1, None, None]) ** 2
        order = np.argpartition(d, 1, axis=0)[:2]
        d1 = np.take_along_axis(d, order[:1], 0)[0]
        d2 = np.take_along_axis(d, order[1:2], 0)[0]
        t = vals[order[0]] * 0.85 + 0.15 * (0.5 + y * 0.5)
        edge = np.clip((np.sqrt(d2) - np.sqrt(d1)) * (8 + 16 * skill), 0, 1)
        t = t * (0.75 + 0.25 * edge) + warp * 0.2
    elif kind == "blobs":
        n = 5 + int(f * 3)
        centres = rng.uniform(-1.0, 1.0, (n, 2)).astype(np.float32)
        centres[:, 0] *= max(1.0, aspect)
        centres[:, 1] *= max(1.0, 1.0 / aspect)
        radii = rng.uniform(0.2, 0.5, n).astype(np.float32)
        acc = np.zeros((lh, lw), dtype=np.float32)
        for (cx, cy), rr in zip(centres, radii, strict=True):
            acc += rr * rr / ((x - cx) ** 2 + (y - cy) ** 2 + 0.02)
        t = 0.5 + 0.5 * np.tanh((acc - 1.2) * (0.6 + crisp * 0.25)) + warp * 0.25
        t = 0.8 * t + 0.2 * (0.5 - y * 0.3)
    elif kind == "plasma":
        acc = np.zeros((lh, lw), dtype=np.float32)
        for _ in range(4):
            a = float(rng.uniform(0, 2 * math.pi))
            k = f * float(rng.uniform(1.5, 4.0))
            acc += np.sin((x * math.cos(a) + y * math.sin(a)) * k + float(rng.uniform(0, 6.3)))
        t = 0.5 + 0.5 * np.sin(acc * 0.9 + warp * 2)
    else:  # horizon
        hy = float(rng.uniform(0.05, 0.35))
        sky = np.clip((hy - y) / (1.0 + hy), 0, 1)
        ground = np.clip((y - hy) * 1.6, 0, 1)
        cx = float(rng.uniform(-0.6, 0.6))
        glow = np.exp(-((x - cx) ** 2 + (y - hy + 0.1) ** 2) * 3.0)
        t = 0.35 + 0.65 * sky * (1 - 0.6 * glow) - 0.3 * ground + warp * 0.25
        t = np.where(y > hy + 0.04 * np.sin(x * 5 * f + phase), t * 0.55, t)
    t = np.asarray(t, dtype=np.float32)
    t = np.clip(t, 0.0, 1.0)
    if style.contour and kind != "cells":
        # anti-aliased iso-lines: distance to the nearest level, in low-res pixels
        levels = t * 7.0
        gy, gx = np.gradient(levels)
        dist = np.abs(levels - np.round(levels)) / (np.sqrt(gx * gx + gy * gy) + 1e-3)
        contour = np.clip(1.3 - dist, 0.0, 1.0)
    else:
        contour = None
    if skill < 0.5:
        t = t + (0.5 - skill) * 0.5 * _smooth_noise(rng, lw, lh, 12, aspect)
        t = t + (0.5 - skill) * 0.2 * (tex.random((lh, lw), dtype=np.float32) - 0.5)
        t = np.clip(t, 0.0, 1.0)
    k = len(pal.stops)
    xp = np.linspace(0.0, 1.0, k)
    rgb = np.empty((lh, lw, 3), dtype=np.float32)
    for c in range(3):
        rgb[..., c] = np.interp(t, xp, pal.stops[:, c]).astype(np.float32)
    if contour is not None:
        line = (0.6 * contour)[..., None]
        rgb = rgb * (1 - line) + pal.ink.astype(np.float32) * line
    elif style.contour:
        line = (0.7 * (1.0 - edge))[..., None]
        rgb = rgb * (1 - line) + pal.ink.astype(np.float32) * line
    if style.vignette > 0:
        r2 = ((x / float(xs[-1])) ** 2 + (y / float(ys[-1])) ** 2) * 0.5
        rgb *= (1.0 - style.vignette * np.clip(r2, 0, 1.5))[..., None]
    return rgb


# --------------------------------------------------------------------------- motifs


def _circle(cx: float, cy: float, r: float, n: int = 48, ry: float | None = None) -> np.ndarray:
    a = np.linspace(0, 2 * math.pi, n, endpoint=False)
    return np.stack([cx + r * np.cos(a), cy + (ry if ry is not None else r) * np.sin(a)], 1)


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


Prim = tuple[str, np.ndarray, float]  # ("fill" | "cut" | "line", points, relative width)


def _shape(kind: str, word: str, wr: np.random.Generator) -> tuple[list[Prim], float]:
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


@dataclass
class _Motif:
    word: str
    kind: str
    prims: list[Prim]
    stretch: float
    x: float  # centre, fraction of width
    y: float  # centre, fraction of height
    size: float  # radius, fraction of min side
    rot: float
    colour: np.ndarray
    named: bool = False  # the prompt named this motif's colour ("golden sun")


def _motif_kind(word: str, wr: np.random.Generator) -> str:
    kind = _KEYWORD_KINDS.get(word)
    if kind is None:
        kind = _GENERIC_KINDS[int(wr.integers(len(_GENERIC_KINDS)))]
    return kind


def _layout(
    style: ModelStyle,
    p: _Prompt,
    pal: _Palette,
    rng: np.random.Generator,
    aspect: float,
) -> list[_Motif]:
    skill = style.skill
    # one unit = the shorter side; the frame is ux wide and uy tall in those units
    ux, uy = max(aspect, 1.0), max(1.0 / aspect, 1.0)
    words = list(p.words)
    scales = list(p.scales)
    if not words:
        words, scales = [(f"#{int(rng.integers(1 << 30))}", None)], [1.0]
    motifs: list[_Motif] = []
    n = len(words)
    shrink = 1.0 / math.sqrt(max(1.0, n / 2.5))
    if "minimal" in p.modifiers:
        shrink *= 1.15
    for idx, (word, wcolour) in enumerate(words):
        wr = _rng("builtin-word-v1", word)
        kind = _motif_kind(word, wr)
        if kind in p.banned_kinds:
            continue
        prims, stretch = _shape(kind, word, wr)
        x, y = (float(v) for v in wr.uniform(0.18, 0.82, 2))
        size = float(wr.uniform(0.15, 0.28)) * style.motif_scale * shrink * scales[idx]
        if idx == 0:
            size *= 1.3
        if kind in _SKY_KINDS:
            y = 0.14 + 0.24 * float(wr.random())
        elif kind in _BOTTOM_KINDS:
            size = max(size, 0.18 * scales[idx])
            y = 1.0 - size / uy * (0.8 + 0.15 * float(wr.random()))
        elif kind in _GROUND_KINDS:
            y = 0.8 - size / uy * 0.9 + 0.06 * float(wr.random())
        rot = float(wr.uniform(-math.pi, math.pi)) if style.rotate else float(wr.normal(0, 0.15))
        if kind in _UPRIGHT_KINDS:
            rot = float(wr.normal(0, 0.05))
        # colour: the word's own hue, pulled toward the model's palette by skill
        wh, ws, wl = (float(v) for v in wr.random(3))
        own = _hsl(wh, 0.45 + 0.5 * ws, 0.35 + 0.35 * wl)
        accent = pal.accents[int(wr.integers(len(pal.accents)))]
        harmony = 0.35 + 0.5 * skill
        colour = (1 - harmony) * own + harmony * accent
        if wcolour is not None:
            colour = 0.2 * colour + 0.8 * _hsl(*wcolour)
        elif p.tints:
            colour = _tinted(colour, p.tints[idx % len(p.tints)], 0.35)
        colour = _suppress(colour, p.neg_tints)
        motifs.append(
            _Motif(word, kind, prims, stretch, x, y, size, rot, colour, wcolour is not None)
        )

    # model composition
    comp = style.composition
    m = len(motifs)
    for i, mo in enumerate(motifs):
        free = mo.kind not in _SKY_KINDS | _BOTTOM_KINDS | _GROUND_KINDS
        if comp == "centered" and free:
            if i == 0:
                mo.x, mo.y, mo.size = 0.5, 0.5, mo.size * 1.25
            else:
                a = 2 * math.pi * (i - 1) / max(1, m - 1) + mo.x * 2
                mo.x, mo.y = 0.5 + 0.3 * math.cos(a), 0.5 + 0.3 * math.sin(a)
        elif comp == "thirds":
            mo.x = 0.5 + (mo.x - 0.5) * 0.4 + (1 / 6 if mo.x > 0.5 else -1 / 6)
            if free:
                mo.y = 0.5 + (mo.y - 0.5) * 0.4 + (1 / 6 if mo.y > 0.5 else -1 / 6)
        elif comp == "band" and free:
            mo.y = 0.5 + (mo.y - 0.5) * 0.3
            mo.x = (i + 0.5) / m if m > 1 else 0.5
    # seed jitter, more for unskilled models
    jit = 0.02 + 0.1 * (1 - skill) ** 2
    for mo in motifs:
        mo.x += float(rng.normal(0, jit))
        mo.y += float(rng.normal(0, jit))
        mo.size *= float(np.exp(rng.normal(0, 0.06 + 0.35 * (1 - skill) ** 2)))
        mo.rot += float(rng.normal(0, 0.03 + 0.3 * (1 - skill) ** 2))
    # skilled models keep things apart and inside the frame
    if skill > 0.35 and m > 1:
        pos = np.array([[mo.x * ux, mo.y * uy] for mo in motifs])
        rad = np.array([mo.size * max(1.0, mo.stretch * 0.6) for mo in motifs])
        strength = (skill - 0.35) / 0.65
        for _ in range(12):
            d = pos[:, None, :] - pos[None, :, :]
            dist = np.sqrt((d**2).sum(-1)) + 1e-6
            overlap = np.clip(rad[:, None] + rad[None, :] - dist, 0, None)
            np.fill_diagonal(overlap, 0)
            push = (d / dist[..., None] * overlap[..., None]).sum(1) * 0.25 * strength
            pos += push
        for mo, (px, py) in zip(motifs, pos, strict=True):
            mo.x = px / ux
            if mo.kind not in _BOTTOM_KINDS:
                mo.y = py / uy
    if skill > 0.35:
        for mo in motifs:
            mx = min(0.45, mo.size * mo.stretch / ux + 0.04)
            my = min(0.45, mo.size / uy + 0.04)
            mo.x = min(max(mo.x, mx), 1 - mx)
            if mo.kind not in _BOTTOM_KINDS:
                mo.y = min(max(mo.y, my), 1 - my)
    # paint back to front: far scenery, sky, water, then everything else in prompt order
    motifs.sort(key=lambda mo: _DEPTH.get(mo.kind, 3))
    return motifs


def _stroke(draw: ImageDraw.ImageDraw, pts: list[tuple[float, float]], width: int) -> None:
    """A polyline with round joins and caps (Pillow's own curve joint is slow in Python)."""
    draw.line(pts, fill=255, width=width)
    if width >= 4:
        r = width / 2 - 0.5
        for x, y in pts:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)


def _lut(alpha: float) -> list[int]:
    return [round(v * alpha) for v in range(256)]


def _draw_motif(
    img: Image.Image,
    mo: _Motif,
    style: ModelStyle,
    pal: _Palette,
    bg_small: np.ndarray,
    rng: np.random.Generator,
    mirror: bool = False,
) -> None:
    w, h = img.size
    unit = min(w, h)
    skill = style.skill
    radius = max(3.0, mo.size * unit)
    cx = (1 - mo.x if mirror else mo.x) * w
    cy = mo.y * h
    cr, sr = math.cos(mo.rot), math.sin(mo.rot)
    rotm = np.array([[cr, -sr], [sr, cr]])
    sx = mo.stretch * (-1 if mirror else 1)
    # unskilled hands: a smooth warp of the whole shape plus a little per-vertex jitter
    warp = (1 - skill) ** 2 * 0.12
    jitter = (1 - skill) ** 3 * 0.025
    wf = rng.uniform(1.5, 3.5, 2)
    wp = rng.uniform(0, 2 * math.pi, 2)
    prims: list[tuple[str, np.ndarray, float]] = []
    for op, pts, wrel in mo.prims:
        q = pts * [sx, 1.0]
        if warp > 0:
            q = q + warp * np.sin(q[:, ::-1] * wf + wp) + rng.normal(0, jitter, q.shape)
        q = q @ rotm.T * radius + [cx, cy]
        prims.append((op, q, wrel * radius))
    treatment = style.treatment
    lw = max(1.0, radius * 0.06 * style.line_weight)
    outline = treatment in ("outline", "inked")
    glow = treatment == "glow"
    shadow = treatment == "shadow"
    pad = lw * 2 + 2 + max((wd for _, _, wd in prims), default=0)
    blur = radius * (0.45 if glow else 0.2) if (glow or shadow) else 0.0
    pad += blur * 2.5
    allp = np.concatenate([q for _, q, _ in prims])
    x0 = math.floor(allp[:, 0].min() - pad)
    y0 = math.floor(allp[:, 1].min() - pad)
    x1 = math.ceil(allp[:, 0].max() + pad)
    y1 = math.ceil(allp[:, 1].max() + pad)
    # clip to the canvas (plus a margin for the blur)
    x0, y0 = max(x0, -int(pad)), max(y0, -int(pad))
    x1, y1 = min(x1, w + int(pad)), min(y1, h + int(pad))
    bw, bh = x1 - x0, y1 - y0
    if bw < 2 or bh < 2:
        return
    ss = 1
    if skill > 0.45:
        ss = 3 if bw * bh < 160_000 else 2
        while ss > 1 and bw * bh * ss * ss > 6_000_000:
            ss -= 1
    off = np.array([x0, y0])

    def local(q: np.ndarray) -> list[tuple[float, float]]:
        return [tuple(v) for v in ((q - off) * ss).tolist()]

    fill = Image.new("L", (bw * ss, bh * ss), 0)
    fd = ImageDraw.Draw(fill)
    edge = Image.new("L", (bw * ss, bh * ss), 0) if outline else None
    ed = ImageDraw.Draw(edge) if edge is not None else None
    elw = max(1, round(lw * ss * (1.6 if treatment == "inked" else 1.0)))
    for op, q, wd in prims:
        pts = local(q)
        if op == "line":
            width = max(1, round(wd * ss))
            _stroke(fd, pts, width)
            if ed is not None:
                _stroke(ed, pts, width + 2 * elw)
        else:
            fd.polygon(pts, fill=255 if op == "fill" else 0)
            if ed is not None:
                _stroke(ed, [*pts, pts[0]], 2 * elw)
    if ss > 1:
        fill = fill.reduce(ss)
        if edge is not None:
            edge = edge.reduce(ss)

    colour = mo.colour
    # skilled models make sure the motif stands out from what is behind it
    lh, lw_ = bg_small.shape[:2]
    bx = min(lw_ - 1, max(0, int(cx / w * lw_)))
    by = min(lh - 1, max(0, int(cy / h * lh)))
    behind = bg_small[by, bx]
    lum = float(colour @ [0.3, 0.59, 0.11])
    blum = float(behind @ [0.3, 0.59, 0.11])
    if abs(lum - blum) < 0.3:
        hh, ss_, ll = _to_hsl(colour)
        shift = (0.1 if mo.named else 0.32) * (0.3 + 0.7 * skill)
        direction = 1.0 if lum >= blum else -1.0
        if not 0.08 <= ll + direction * shift <= 0.92:
            direction = -direction
        target = ll + direction * shift
        colour = _hsl(hh, ss_, target)
    rgb = tuple(int(v) for v in np.clip(colour * 255 + 0.5, 0, 255))

    if shadow or glow:
        small = fill.reduce(4) if min(bw, bh) > 16 else fill
        factor = bw / small.size[0]
        small = small.filter(ImageFilter.GaussianBlur(max(0.5, blur / factor)))
        soft = small.resize((bw, bh), Image.Resampling.BILINEAR)
        if shadow:
            d = round(radius * 0.12)
            img.paste((0, 0, 0), (x0 + d, y0 + d), soft.point(_lut(0.45)))
        else:
            light = tuple(int(min(255, v * 0.55 + 120)) for v in rgb)
            img.paste(light, (x0, y0), soft.point(_lut(0.9)))
    if edge is not None:
        ink = tuple(int(v * 255) for v in pal.ink) if treatment == "inked" else rgb
        img.paste(ink, (x0, y0), edge)
    if treatment == "outline":
        img.paste(rgb, (x0, y0), fill.point(_lut(0.22)))
        return
    alpha = 0.85 if treatment == "translucent" else 1.0 - 0.25 * (1 - skill) ** 2
    mask = fill if alpha >= 0.999 else fill.point(_lut(alpha))
    if treatment == "gradient" and bw * bh > 0:
        gy = np.linspace(1.25, 0.7, bh, dtype=np.float32)[:, None, None]
        gx = np.linspace(1.05, 0.95, bw, dtype=np.float32)[None, :, None]
        arr = np.clip(np.asarray(rgb, dtype=np.float32) * gy * gx, 0, 255).astype(np.uint8)
        img.paste(Image.fromarray(arr), (x0, y0), mask)
    else:
        img.paste(rgb, (x0, y0), mask)


# --------------------------------------------------------------------------- public


def _check_size(width: int, height: int) -> tuple[int, int]:
    try:
        width, height = operator.index(width), operator.index(height)
    except TypeError:
        raise ValueError(f"width and height must be integers, got {width!r}x{height!r}") from None
    for name, side in (("width", width), ("height", height)):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ValueError(
                f"{name} {side} is out of range: each side must be between "
                f"{MIN_SIDE} and {MAX_SIDE} pixels (got {width}x{height})"
            )
    return width, height


def render(
    model_id: str,
    prompt: str,
    *,
    negative_prompt: str | None = None,
    seed: int = 0,
    width: int = 1024,
    height: int = 1024,
) -> Image.Image:
    """Draw the builtin stand-in picture for ``model_id`` and ``prompt``.

    The model id picks the style (palette, background family, line treatment, skill); colour
    words in the prompt tint the palette, every other content word adds a motif whose shape,
    place, size and colour come from a hash of the word; negative-prompt words remove matching
    motifs and colours; the seed jitters the layout. The same inputs give the same pixels in any
    process (all randomness comes from SHA-256 of the inputs; Python's salted ``hash()`` is never
    used), and the composition does not depend on the size, so a thumbnail matches the full image.

    Returns:
        An RGB image of exactly ``width`` x ``height``.

    Raises:
        ValueError: a side outside [64, 4096] pixels.
    """
    width, height = _check_size(width, height)
    model_id = str(model_id)
    style = model_style(model_id)
    parsed = _parse(prompt or "", negative_prompt)
    key_words = " ".join(
        f"{w}:{c}:{k}" for (w, c), k in zip(parsed.words, parsed.scales, strict=True)
    )
    key = (model_id, int(seed or 0), key_words, parsed.tints, sorted(parsed.modifiers))
    rng = _rng("builtin-render-v1", *key)  # layout: independent of the size
    tex = _rng("builtin-texture-v1", width, height, *key)  # per-pixel noise
    skill = style.skill
    # unskilled models render smaller and get blown up: softer, muddier
    q = 1.0 if skill >= 0.4 else 0.55 + skill
    iw, ih = max(MIN_SIDE // 2, round(width * q)), max(MIN_SIDE // 2, round(height * q))
    div = 3.0 if skill > 0.6 else 4.0
    long_side = max(iw, ih)
    low_long = int(min(max(long_side / div, 48), 512))
    lw = max(8, round(iw * low_long / long_side))
    lh = max(8, round(ih * low_long / long_side))

    pal = _palette(style, parsed, rng)
    bg = _background(style, pal, rng, tex, lw, lh, width / height)
    bg8 = np.clip(bg * 255.0 + 0.5, 0, 255).astype(np.uint8)
    img = Image.fromarray(bg8).resize((iw, ih), Image.Resampling.BICUBIC)

    for mo in _layout(style, parsed, pal, rng, width / height):
        _draw_motif(img, mo, style, pal, bg, rng)
        if style.composition == "symmetric" and abs(mo.x - 0.5) > 0.08:
            _draw_motif(img, mo, style, pal, bg, rng, mirror=True)

    if (iw, ih) != (width, height):
        img = img.resize((width, height), Image.Resampling.BILINEAR)
    grain = style.grain * (0.5 if parsed.clean else 1.0)
    if grain > 0.02:
        gw, gh = max(1, width // 2), max(1, height // 2)
        noise = tex.normal(0.0, 40.0 * grain, (gh, gw, 3)).astype(np.float32) + 128.0
        nimg = Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8))
        nimg = nimg.resize((width, height), Image.Resampling.NEAREST)
        img = Image.blend(img, nimg, min(0.5, 0.35 * grain + 0.05))
    if skill < 0.3:
        # washed-out, low-contrast look
        haze = Image.new("RGB", (width, height), tuple(int(v * 255) for v in pal.stops.mean(0)))
        img = Image.blend(img, haze, (0.3 - skill) * 0.45)
    return img


def render_png(
    model_id: str,
    prompt: str,
    *,
    negative_prompt: str | None = None,
    seed: int = 0,
    width: int = 1024,
    height: int = 1024,
) -> bytes:
    """PNG bytes of :func:`render` with no metadata chunks and fast compression."""
    img = render(
        model_id, prompt, negative_prompt=negative_prompt, seed=seed, width=width, height=height
    )
    # Pillow writes no metadata chunks unless asked to; level 1 trades size for speed.
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
