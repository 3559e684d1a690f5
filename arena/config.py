"""Settings: defaults, overridden by ``ARENA_*`` environment variables, checked up front."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

#: The most bootstrap rounds a background publication may take (as ``arena recompute``).
MAX_PUBLISH_BOOTSTRAP = 100_000
#: The default new-voter proof of work: Chromium solves it in well under a second.
DEFAULT_POW_MAXNUMBER = 50_000


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable and the fix."""


def _secret_key(instance_path: Path, production: bool) -> str:
    key = os.environ.get("ARENA_SECRET_KEY")
    if key:
        return key
    if production:
        raise ConfigError(
            "ARENA_SECRET_KEY is not set. In production (ARENA_ENV=production) set it to a long "
            'random string, e.g. python -c "import secrets; print(secrets.token_hex(32))".'
        )
    # Development: one key per instance folder, so every worker and restart shares it.
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}.") from None


def _optional_float(name: str) -> float | None:
    return _float(name, 0.0) if os.environ.get(name) else None


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}.")


def _integer(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from None


def _publishing(settings: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Settle and check the background publisher's settings (after the overrides).

    Tests (``TESTING``) run no publisher unless their own settings ask for one, whatever the
    environment says; the poll interval defaults to 5 s, or a quarter of a shorter bound.
    """
    if "AUTOPUBLISH" not in overrides:
        settings["AUTOPUBLISH"] = not settings.get("TESTING") and _flag("ARENA_AUTOPUBLISH", True)
    stale = settings["PUBLISH_MAX_STALE"]
    if not stale > 0:
        raise ConfigError(f"ARENA_PUBLISH_MAX_STALE must be more than 0 seconds, got {stale}.")
    if settings["PUBLISH_POLL"] is None:
        settings["PUBLISH_POLL"] = min(5.0, stale / 4)
    if settings["DUMP_EVERY"] < 0:
        raise ConfigError(
            f"ARENA_DUMP_EVERY must be 0 (no dumps) or more seconds, got {settings['DUMP_EVERY']}."
        )
    poll = settings["PUBLISH_POLL"]
    if not 0 < poll < stale:
        raise ConfigError(
            f"ARENA_PUBLISH_POLL must be more than 0 and less than ARENA_PUBLISH_MAX_STALE "
            f"({stale} s), got {poll}."
        )
    after = settings["PUBLISH_AFTER_VOTES"]
    if after < 1:
        raise ConfigError(f"ARENA_PUBLISH_AFTER_VOTES must be 1 or more, got {after}.")
    rounds = settings["PUBLISH_BOOTSTRAP"]
    if not 0 <= rounds <= MAX_PUBLISH_BOOTSTRAP:
        raise ConfigError(
            f"ARENA_PUBLISH_BOOTSTRAP must be from 0 to {MAX_PUBLISH_BOOTSTRAP}, got {rounds}."
        )


def _new_voters(settings: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Tests (``TESTING``) ask no proof of work and limit no new voters unless their own
    settings ask for it, whatever the environment says (dedicated tests turn them on)."""
    if settings.get("TESTING"):
        if "POW" not in overrides:
            settings["POW"] = False
        if "NEW_VOTERS_PER_ADDRESS" not in overrides:
            settings["NEW_VOTERS_PER_ADDRESS"] = "off"


def _matchmaking(settings: dict[str, Any]) -> None:
    from arena.ratings.matchmaking import POLICIES

    if settings["MATCHMAKING"] not in POLICIES:
        raise ConfigError(
            f"ARENA_MATCHMAKING must be one of {', '.join(POLICIES)}, "
            f"got {settings['MATCHMAKING']!r}."
        )
    if settings["MATCHMAKING_TTL"] is None:
        settings["MATCHMAKING_TTL"] = 0.0 if settings.get("TESTING") else 2.0
    if settings["MATCHMAKING_TTL"] < 0:
        raise ConfigError(
            f"ARENA_MATCHMAKING_TTL must be 0 or more seconds, got {settings['MATCHMAKING_TTL']}."
        )


def _check_rate_limit(name: str, value: str) -> None:
    from limits import parse_many

    if value == "off":
        return
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(
            f"{name} must be a rate such as '60/minute' or '10/second;500/day', or 'off'; "
            f"got {value!r}."
        ) from None


def load(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the app settings.

    Args:
        instance_path: the app's instance folder (SQLite file, media and dev secret live here).
        overrides: settings that win over the environment (tests).

    Raises:
        ConfigError: a setting is malformed, or a secret is missing in production.
    """
    instance = Path(instance_path)
    overrides = dict(overrides or {})
    env = os.environ
    production = env.get("ARENA_ENV", "development") == "production"
    settings: dict[str, Any] = {
        "ARENA_ENV": "production" if production else "development",
        "DATABASE_URL": env.get("ARENA_DATABASE_URL") or f"sqlite:///{instance / 'arena.db'}",
        "MEDIA_DIR": env.get("ARENA_MEDIA_DIR") or str(instance / "media"),
        # SQLite's PRAGMA synchronous: full syncs the WAL at every commit, so an acknowledged
        # vote survives a power loss; normal only survives a process crash (arena.db).
        "SQLITE_SYNCHRONOUS": env.get("ARENA_SQLITE_SYNCHRONOUS", "full").lower(),
        "ADMIN_PASSWORD": env.get("ARENA_ADMIN_PASSWORD"),
        "ELO_K": _float("ARENA_ELO_K", 32.0),
        "BATTLE_TTL": dt.timedelta(seconds=_float("ARENA_BATTLE_TTL", 3600)),
        "MIN_BATTLES": int(_float("ARENA_MIN_BATTLES", 10)),
        # Votes cast sooner than this after the battle was issued are kept but not counted.
        "MIN_VOTE_MS": int(_float("ARENA_MIN_VOTE_MS", 1000)),
        # Votes beyond this many per voter per UTC day are kept but not counted (0: no cap).
        "DAILY_VOTE_CAP": int(_float("ARENA_DAILY_VOTE_CAP", 500)),
        "SESSION_COOKIE_NAME": "arena",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(days=365),
        # The voter cookie is set once; re-sending it on every response only costs time.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # Secure cookies by default in production (served over HTTPS, usually behind a proxy).
        "SESSION_COOKIE_SECURE": _flag("ARENA_SECURE_COOKIES", production),
        "TRUSTED_PROXIES": int(_float("ARENA_TRUSTED_PROXIES", 0)),
        "RATE_LIMIT": env.get("ARENA_RATE_LIMIT", "60/minute"),
        "IP_RATE_LIMIT": env.get("ARENA_IP_RATE_LIMIT", "600/minute"),
        "ADMIN_LOGIN_RATE_LIMIT": env.get("ARENA_ADMIN_LOGIN_RATE_LIMIT", "10/minute"),
        "REDIS_URL": env.get("ARENA_REDIS_URL"),
        # A message broker /healthz checks when set (no arena code uses one yet).
        "BROKER_URL": env.get("ARENA_BROKER_URL") or None,
        # A bearer token GET /metrics requires when set (None: /metrics is public).
        "METRICS_TOKEN": env.get("ARENA_METRICS_TOKEN") or None,
        # Rate-limit counts shared by this machine's workers when there is no Redis (None: a
        # file per database in the instance folder, settled below).
        "LIMITS_DB": env.get("ARENA_LIMITS_DB") or None,
        # New voters created per client address (their cookie-less requests), e.g. 10/hour.
        "NEW_VOTERS_PER_ADDRESS": env.get("ARENA_NEW_VOTERS_PER_ADDRESS", "10/hour"),
        # A new voter proves some work (ALTCHA) before its first vote; the difficulty is the
        # largest number the solver may have to try (about half of it on average).
        "POW": _flag("ARENA_POW", True),  # settled with TESTING below
        "POW_MAXNUMBER": _integer("ARENA_POW_MAXNUMBER", DEFAULT_POW_MAXNUMBER),
        # Bounded influence on the published fit (arena.services.leaderboards.weights): each
        # voter's and each address's earliest counted votes per scope (0: no cap), new voters
        # left out until past probation, detectors flagging the voters they are sure of.
        "VOTER_WEIGHT_CAP": _integer("ARENA_VOTER_WEIGHT_CAP", 100),
        "ADDRESS_WEIGHT_CAP": _integer("ARENA_ADDRESS_WEIGHT_CAP", 300),
        # (Settled below: off under TESTING unless the test's own settings turn it on, as
        # test voters are minutes old at most.)
        "PROBATION": None,
        "AUTOFLAG": _flag("ARENA_AUTOFLAG", True),
        # Background publishing of snapshots (arena.services.leaderboards.autopublish); the
        # poll interval is settled with the bound (None: its default).
        "PUBLISH_AFTER_VOTES": _integer("ARENA_PUBLISH_AFTER_VOTES", 100),
        "PUBLISH_MAX_STALE": _float("ARENA_PUBLISH_MAX_STALE", 60.0),
        # Seconds between static dumps the background publisher writes (0: never).
        "DUMP_EVERY": _float("ARENA_DUMP_EVERY", 3600.0),
        "PUBLISH_POLL": _optional_float("ARENA_PUBLISH_POLL"),
        "PUBLISH_BOOTSTRAP": _integer("ARENA_PUBLISH_BOOTSTRAP", 1000),
        # Matchmaking (arena.services.voting.matchmaking): the policy, and how long a process
        # reuses its reads of a competition (None: 2 s, settled below: 0 under TESTING).
        "MATCHMAKING": env.get("ARENA_MATCHMAKING", "active"),
        "MATCHMAKING_TTL": _optional_float("ARENA_MATCHMAKING_TTL"),
        "HOST": env.get("ARENA_HOST", "127.0.0.1"),
        "PORT": int(_float("ARENA_PORT", 5000)),
        "SEEDS_DIR": env.get("ARENA_SEEDS_DIR")
        or str(Path(__file__).resolve().parent.parent / "seeds"),
        "GENERATION_WORKERS": int(_float("ARENA_GENERATION_WORKERS", os.cpu_count() or 2)),
        "PROVIDER_CREDENTIALS": {
            "fal": env.get("FAL_KEY"),
            "replicate": env.get("REPLICATE_API_TOKEN"),
            "openai": env.get("OPENAI_API_KEY"),
        },
        "PROVIDER_BASE_URLS": {
            "fal": env.get("FAL_BASE_URL", "https://queue.fal.run"),
            "replicate": env.get("REPLICATE_BASE_URL", "https://api.replicate.com/v1"),
            "openai": env.get("OPENAI_BASE_URL", "https://api.openai.com/v1"),
        },
    }
    if "SECRET_KEY" not in overrides:
        settings["SECRET_KEY"] = _secret_key(instance, production)
    if production and not settings["ADMIN_PASSWORD"]:
        raise ConfigError("ARENA_ADMIN_PASSWORD is not set; production needs an admin password.")
    settings.update(overrides)
    _check_rate_limit("ARENA_RATE_LIMIT", settings["RATE_LIMIT"])
    _check_rate_limit("ARENA_IP_RATE_LIMIT", settings["IP_RATE_LIMIT"])
    _check_rate_limit("ARENA_ADMIN_LOGIN_RATE_LIMIT", settings["ADMIN_LOGIN_RATE_LIMIT"])
    _check_rate_limit("ARENA_NEW_VOTERS_PER_ADDRESS", settings["NEW_VOTERS_PER_ADDRESS"])
    if not 1 <= settings["POW_MAXNUMBER"] <= 10**9:
        raise ConfigError(
            f"ARENA_POW_MAXNUMBER must be from 1 to 1000000000, got {settings['POW_MAXNUMBER']}."
        )
    if not settings["LIMITS_DB"]:
        # One file per database: separate deployments (and test databases) never share counts.
        tag = hashlib.sha256(settings["DATABASE_URL"].encode()).hexdigest()[:12]
        settings["LIMITS_DB"] = str(instance / f"ratelimits-{tag}.db")
    if settings["PROBATION"] is None:
        settings["PROBATION"] = not settings.get("TESTING") and _flag("ARENA_PROBATION", True)
    for cap in ("VOTER_WEIGHT_CAP", "ADDRESS_WEIGHT_CAP"):
        if settings[cap] < 0:
            raise ConfigError(f"ARENA_{cap} must be 0 (no cap) or more, got {settings[cap]}.")
    _publishing(settings, overrides)
    _new_voters(settings, overrides)
    _matchmaking(settings)
    synchronous = settings["SQLITE_SYNCHRONOUS"] = str(settings["SQLITE_SYNCHRONOUS"]).lower()
    if synchronous not in ("full", "normal"):
        raise ConfigError(f"ARENA_SQLITE_SYNCHRONOUS must be full or normal, got {synchronous!r}.")
    if settings["ELO_K"] <= 0:
        raise ConfigError(f"ARENA_ELO_K must be positive, got {settings['ELO_K']}.")
    return settings
