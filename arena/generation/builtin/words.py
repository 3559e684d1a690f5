"""What a prompt's words mean: colour, treatment, size and motif vocabularies, and the parser."""

from __future__ import annotations

import re
from dataclasses import dataclass

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

KEYWORD_KINDS: dict[str, str] = {}
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
        KEYWORD_KINDS[_w] = _kind

GENERIC_KINDS = (
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
_WORD_RE = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Prompt:
    """A prompt and its negative prompt as the renderer reads them."""

    tints: tuple[tuple[float, float, float], ...]  # HSL
    theme_tints: tuple[tuple[float, float, float], ...]
    neg_tints: tuple[tuple[float, float, float], ...]
    modifiers: frozenset[str]
    words: tuple[tuple[str, tuple[float, float, float] | None], ...]  # (stem, colour word HSL)
    scales: tuple[float, ...]  # size factor of each word's motif
    banned_kinds: frozenset[str]
    clean: bool  # negative prompt asks for less noise / blur


def parse_prompt(prompt: str, negative_prompt: str | None) -> Prompt:
    """Colours, treatments and motif words of ``prompt``, minus what ``negative_prompt`` bans."""
    neg_tokens = [_stem(w) for w in _WORD_RE.findall((negative_prompt or "").lower())]
    neg_set = set(neg_tokens)
    neg_tints = tuple(hsl for w in neg_tokens for hsl in _COLOURS.get(w, ()))
    banned_kinds = frozenset(
        KEYWORD_KINDS.get(w, w) for w in neg_tokens if w in KEYWORD_KINDS or w in GENERIC_KINDS
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
    return Prompt(
        tints=tuple(tints),
        theme_tints=tuple(theme),
        neg_tints=neg_tints,
        modifiers=frozenset(modifiers),
        words=tuple(words),
        scales=tuple(scales),
        banned_kinds=banned_kinds,
        clean=bool(neg_set & _QUALITY_NEGATIVES),
    )
