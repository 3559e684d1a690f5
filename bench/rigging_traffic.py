"""The traffic of bench/rigging.py: an HTTP client, voters (honest and bots) and what they log.

Everything here talks to a real server over HTTP on 127.0.0.1, as a browser or a script
would. One thing comes from the bench's own database instead (the bench owns it): the *truth*
of a battle (which models and outputs it shows, ``Oracle``), which honest voters need to
judge by their preferences and the analysis needs to score the bots. A bot never uses it to
decide, except the "perfect recognition" bots of attacks 1 and 2, which are told which side
shows their target (the worst case: no recognition could do better).

Addresses: the server trusts one proxy hop in this bench (``ARENA_TRUSTED_PROXIES=1``), so an
honest voter sends ``X-Forwarded-For`` with its own address, and the bot sends none (its
address is the connection's, 127.0.0.1, as a proxy in front would report it).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import aliased

#: A bot votes this long after its battle was issued: the server's default ARENA_MIN_VOTE_MS
#: (1 s, public in the README) plus a margin; it adds half a second whenever a vote comes back
#: not counted as too fast.
BOT_DELAY = 1.1
#: Honest voters look at the two images for this long (uniform, seconds) before voting.
HONEST_THINK = (1.2, 4.0)
#: An honest vote is a tie this often (a quarter of those "both bad"); otherwise Bradley-Terry.
HONEST_TIES = 0.15


# --- HTTP ---------------------------------------------------------------------------------


@dataclass
class Identity:
    """One cookie jar and the address it is sent from (None: the connection's, 127.0.0.1)."""

    address: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    votes: int = 0
    verified: bool = False
    voter_id: int | None = None
    ready_at: float = 0.0


@dataclass
class Reply:
    """A response: status, headers (lower-case names), body and how long it took."""

    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else {}
        except ValueError:
            return {}

    @property
    def error_code(self) -> str | None:
        error = self.json().get("error") if self.status >= 400 else None
        return error.get("code") if isinstance(error, dict) else None

    @property
    def message(self) -> str:
        error = self.json().get("error")
        return str(error.get("message", "")) if isinstance(error, dict) else ""

    @property
    def retry_after(self) -> float:
        try:
            return float(self.headers.get("retry-after", "1"))
        except ValueError:
            return 1.0


class Http:
    """HTTP/1.1 over asyncio streams, one connection per request."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def call(
        self,
        method: str,
        path: str,
        identity: Identity | None = None,
        body: Any = None,
        timeout: float = 120.0,
    ) -> Reply:
        payload = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Connection: close"]
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        if identity is not None and identity.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in identity.cookies.items()))
        if identity is not None and identity.address:
            head.append(f"X-Forwarded-For: {identity.address}")
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
            data = await asyncio.wait_for(reader.read(), timeout)
        finally:
            writer.close()
        elapsed = time.perf_counter() - started
        header, _, content = data.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "set-cookie" and identity is not None:
                _set_cookie(identity, value)
            headers[name.strip().lower()] = value.strip()
        return Reply(int(lines[0].split()[1]), headers, content, elapsed)


def _set_cookie(identity: Identity, value: str) -> None:
    pair = value.split(";", 1)[0].strip()
    name, _, cookie = pair.partition("=")
    if cookie and "expires=thu, 01 jan 1970" not in value.lower():
        identity.cookies[name] = cookie
    else:
        identity.cookies.pop(name, None)


def path_of(url: str) -> str:
    """The path of an absolute URL the server returned (it names its own host)."""
    return "/" + url.split("://", 1)[-1].split("/", 1)[1]


# --- the truth of a battle (from the bench's database) -----------------------------------


@dataclass(frozen=True)
class Facts:
    """A battle's truth: its voter, the models left and right, and their outputs."""

    voter_id: int
    left: str
    right: str
    left_output: int
    right_output: int


class Oracle:
    """Looks battles up in the bench's database by token: who was shown what (the truth)."""

    def __init__(self, url: str) -> None:
        from arena.models import Battle, Model
        from arena.services.voting.battles import token_hash

        self._hash = token_hash
        self.engine = create_engine(url)
        left, right = aliased(Model), aliased(Model)
        self._query = (
            select(
                Battle.voter_id,
                left.slug,
                right.slug,
                Battle.left_output_id,
                Battle.right_output_id,
            )
            .join(left, left.id == Battle.left_model_id)
            .join(right, right.id == Battle.right_model_id)
        )
        self._token = Battle.token_hash

    def facts(self, token: str) -> Facts | None:
        """The truth of the battle with this token (None: no such battle)."""
        with self.engine.connect() as conn:
            row = conn.execute(self._query.where(self._token == self._hash(token))).first()
        return Facts(*row) if row else None

    def close(self) -> None:
        self.engine.dispose()


# --- proof of work (ALTCHA), when the server asks for it ---------------------------------


def _solve(challenge: dict[str, Any]) -> tuple[str, float]:
    """Solve an ALTCHA challenge (a process of its own: it is CPU work); (payload, seconds)."""
    from altcha import solve_challenge_v1

    started = time.perf_counter()
    maxnumber = int(challenge.get("maxnumber") or challenge.get("maxNumber") or 1_000_000)
    solution = solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], maxnumber
    )
    number = solution.number if solution else -1
    payload = {
        "algorithm": challenge["algorithm"],
        "challenge": challenge["challenge"],
        "number": number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
    }
    return base64.b64encode(json.dumps(payload).encode()).decode(), time.perf_counter() - started


class Verifier:
    """Proves a new voter's work (``GET /api/v1/voters/challenge``, ``POST …/verify``)."""

    def __init__(self, http: Http, executor: Executor) -> None:
        self.http = http
        self.executor = executor
        self.enabled = False

    async def detect(self) -> bool:
        """Whether the server has the challenge endpoint (a 404 means no proof of work)."""
        reply = await self.http.call("GET", "/api/v1/voters/challenge", Identity("192.0.2.1"))
        self.enabled = reply.status == 200
        return self.enabled

    async def verify(self, identity: Identity, tally: Tally) -> Reply | None:
        """Solve and send one challenge for ``identity``, noted in ``tally``; the verify
        reply (None: the server has no challenge endpoint)."""
        reply = await self.http.call("GET", "/api/v1/voters/challenge", identity)
        if reply.status != 200:
            tally.pow_refused[f"challenge {reply.status} {reply.error_code or ''}".strip()] += 1
            return reply if reply.status != 404 else None
        self.enabled = True
        loop = asyncio.get_running_loop()
        payload, seconds = await loop.run_in_executor(self.executor, _solve, reply.json())
        tally.pow_solved += 1
        tally.pow_seconds += seconds
        answer = await self.http.call(
            "POST", "/api/v1/voters/verify", identity, {"altcha": payload}
        )
        if answer.status == 200:
            identity.verified = True
        else:
            tally.pow_refused[f"verify {answer.status} {answer.error_code or ''}".strip()] += 1
        return answer


# --- what every voter does: a battle, then a vote ----------------------------------------


@dataclass
class Tally:
    """What one group of voters (honest, or one bot) sent and got back."""

    battles: int = 0
    votes: int = 0
    counted: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    not_counted: Counter[str] = field(default_factory=Counter)
    vote_ids: list[int] = field(default_factory=list)
    vote_times: dict[int, float] = field(default_factory=dict)
    voter_ids: set[int] = field(default_factory=set)
    voted: set[int] = field(default_factory=set)
    identities: int = 0
    pow_solved: int = 0
    pow_seconds: float = 0.0
    pow_refused: Counter[str] = field(default_factory=Counter)
    #: New voters the address was refused, and the latest Retry-After of those refusals.
    new_refused: int = 0
    new_wait: float = 0.0

    def refusal(self, what: str, reply: Reply) -> None:
        """Count a refused request (``what`` it was, its status and error code)."""
        self.statuses[f"{what} {reply.status} {reply.error_code or ''}".strip()] += 1


class Session:
    """One run of traffic against one server: the client, the truth and the proof of work."""

    def __init__(
        self, http: Http, oracle: Oracle, verifier: Verifier, competition: str, started: float
    ) -> None:
        self.http = http
        self.oracle = oracle
        self.verifier = verifier
        self.competition = competition
        self.started = started
        self.delay = BOT_DELAY

    async def battle(self, identity: Identity, tally: Tally) -> tuple[dict, Facts] | Reply:
        """Issue a battle (proving work first when asked to); the battle and its truth."""
        for _ in range(3):
            reply = await self.http.call(
                "POST", "/api/v1/battles", identity, {"competition": self.competition}
            )
            if reply.status == 201:
                battle = reply.json()
                facts = self.oracle.facts(battle["token"])
                if facts is None:
                    raise RuntimeError("a battle the server issued is not in its database")
                tally.battles += 1
                tally.voter_ids.add(facts.voter_id)
                identity.voter_id = facts.voter_id
                return battle, facts
            if not (reply.status == 403 and reply.error_code == "voter_unverified"):
                tally.refusal("battle", reply)
                return reply
            answer = await self.verifier.verify(identity, tally)
            if answer is None or answer.status != 200:
                tally.refusal("battle", reply)
                return answer or reply
        return reply

    async def vote(self, identity: Identity, token: str, winner: str, tally: Tally) -> dict | Reply:
        """Vote (proving work first when asked to); the reveal, or the refusal."""
        for _ in range(2):
            reply = await self.http.call(
                "POST", f"/api/v1/battles/{token}/vote", identity, {"winner": winner}
            )
            if reply.status == 200:
                result = reply.json()
                identity.votes += 1
                tally.votes += 1
                if identity.voter_id is not None:
                    tally.voted.add(identity.voter_id)
                tally.vote_ids.append(result["vote_id"])
                tally.vote_times[result["vote_id"]] = time.perf_counter() - self.started
                if result.get("counted", True):
                    tally.counted += 1
                reason = result.get("not_counted")
                if reason:
                    tally.not_counted[str(reason)] += 1
                    if reason == "fast":
                        self.delay += 0.5
                return result
            if not (reply.status == 403 and reply.error_code == "voter_unverified"):
                tally.refusal("vote", reply)
                return reply
            answer = await self.verifier.verify(identity, tally)
            if answer is None or answer.status != 200:
                tally.refusal("vote", reply)
                return answer or reply
        return reply

    async def settle(self, identity: Identity, tally: Tally) -> None:
        """A browser verifies a new voter in the background before the first vote."""
        if self.verifier.enabled and not identity.verified:
            await self.verifier.verify(identity, tally)


async def backoff(reply: Reply) -> None:
    """Wait as a refusal asks (rate limits), at most 5 s at a time."""
    await asyncio.sleep(min(5.0, max(0.2, reply.retry_after)) if reply.status == 429 else 0.5)


# --- honest voters -------------------------------------------------------------------------


def random_address(rng: random.Random) -> str:
    """A public-looking IPv4 address on a random /24 (10/8, 127/8 and 192.168/16 avoided)."""
    first = rng.choice([n for n in range(1, 224) if n not in (10, 127, 192)])
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def honest_choice(truth: dict[str, float], facts: Facts, rng: random.Random) -> str:
    """Bradley-Terry on the truth ratings (Elo scale), with ties."""
    if rng.random() < HONEST_TIES:
        return "both_bad" if rng.random() < 0.25 else "tie"
    gap = truth[facts.right] - truth[facts.left]
    return "left" if rng.random() < 1.0 / (1.0 + 10.0 ** (gap / 400.0)) else "right"


async def honest_voter(
    session: Session,
    truth: dict[str, float],
    votes: int,
    rng: random.Random,
    tally: Tally,
    stop: asyncio.Event,
) -> None:
    """One person: own cookie and address, ``votes`` votes with a few seconds' thought each."""
    identity = Identity(random_address(rng))
    tally.identities += 1
    cast = 0
    for _ in range(3 * votes):  # a few refusals (rate limits) are retried, not forever
        if cast >= votes or stop.is_set():
            return
        issued = await session.battle(identity, tally)
        if isinstance(issued, Reply):
            await backoff(issued)
            continue
        battle, facts = issued
        await session.settle(identity, tally)
        await asyncio.sleep(rng.uniform(*HONEST_THINK))
        if stop.is_set():
            return
        result = await session.vote(
            identity, battle["token"], honest_choice(truth, facts, rng), tally
        )
        if isinstance(result, Reply):
            await backoff(result)
        else:
            cast += 1


async def honest_traffic(
    session: Session,
    truth: dict[str, float],
    *,
    concurrency: int,
    stop: asyncio.Event,
    total: int | None = None,
    seed: int = 1,
    tally: Tally | None = None,
) -> Tally:
    """Keep ``concurrency`` honest voters active, 10 to 40 votes each, until ``total`` votes
    are cast (each voter's votes are taken from it when the voter arrives) or ``stop``."""
    rng = random.Random(seed)
    tally = tally or Tally()
    budget = [total if total is not None else 10**12]

    async def slot() -> None:
        while not stop.is_set() and budget[0] > 0:
            votes = min(rng.randint(10, 40), budget[0])
            budget[0] -= votes
            await honest_voter(session, truth, votes, random.Random(rng.random()), tally, stop)

    await asyncio.gather(*(slot() for _ in range(concurrency)))
    return tally


# --- bots from one address -----------------------------------------------------------------


Policy = Callable[[Facts, random.Random], str | None]


def target_only(target: str) -> Policy:
    """Vote for the target when it is shown (perfect recognition), skip the battle otherwise."""

    def decide(facts: Facts, rng: random.Random) -> str | None:
        if target in (facts.left, facts.right):
            return "left" if facts.left == target else "right"
        return None

    return decide


def target_or_random(target: str) -> Policy:
    """Vote for the target when it is shown (perfect recognition), at random otherwise."""

    def decide(facts: Facts, rng: random.Random) -> str | None:
        if target in (facts.left, facts.right):
            return "left" if facts.left == target else "right"
        return rng.choice(("left", "right"))

    return decide


def at_random(facts: Facts, rng: random.Random) -> str | None:
    """Cookie cycling on its own: every battle gets a random side."""
    return rng.choice(("left", "right"))


@dataclass
class BotPlan:
    """How a bot votes: its policy, cookies, concurrency and the most votes it sends."""

    policy: Policy
    per_cookie: int
    lanes: int
    max_votes: int
    seed: int = 7


class CookieJar:
    """A bot's cookies: a new voter every ``per_cookie`` votes while the address may make new
    voters; once it may not (429 ``too_many_new_voters``), the voters it has, least used first,
    each rested as long as the per-voter limit asks."""

    def __init__(self, per_cookie: int) -> None:
        self.per_cookie = per_cookie
        self.idle: list[Identity] = []
        self.new_refused_until = 0.0
        self.new_refused = 0
        #: Seconds the latest new-voter refusal asked the bot to wait.
        self.new_retry_after = 0.0

    def take(self, tally: Tally) -> Identity | None:
        """The next cookie to use (None: none is usable now)."""
        now = time.monotonic()
        ready = [i for i in self.idle if i.ready_at <= now]
        fresh = [i for i in ready if i.votes % self.per_cookie or i.votes == 0]
        if not fresh and now >= self.new_refused_until:
            tally.identities += 1
            return Identity()
        pick = min(fresh or ready, key=lambda i: i.votes, default=None)
        if pick is not None:
            self.idle.remove(pick)
        return pick

    def give(self, identity: Identity, rest: float = 0.0) -> None:
        """Put a cookie back (one that never got a voter is dropped)."""
        if identity.voter_id is not None:
            identity.ready_at = time.monotonic() + rest
            self.idle.append(identity)

    async def refused(self, reply: Reply, identity: Identity) -> Identity | None:
        """After a refusal: the cookie to go on with (None: take another)."""
        if reply.status == 429 and reply.error_code == "too_many_new_voters":
            self.new_refused += 1
            self.new_retry_after = reply.retry_after
            self.new_refused_until = time.monotonic() + reply.retry_after
            self.give(identity)
            return None
        if reply.status == 429 and "per voter" in reply.message:
            self.give(identity, reply.retry_after)
            return None
        await backoff(reply)
        return identity


async def next_battle(
    session: Session, jar: CookieJar, tally: Tally, identity: Identity | None
) -> tuple[Identity | None, tuple[dict, Facts] | None]:
    """A battle for one of the jar's cookies: (the cookie now in use, the battle or None)."""
    if identity is None:
        identity = jar.take(tally)
        if identity is None:
            await asyncio.sleep(0.5)
            return None, None
    issued = await session.battle(identity, tally)
    if isinstance(issued, Reply):
        return await jar.refused(issued, identity), None
    return identity, issued


async def bot_lane(
    session: Session,
    plan: BotPlan,
    jar: CookieJar,
    tally: Tally,
    stop: asyncio.Event,
    rng: random.Random,
) -> None:
    """One of the bot's concurrent loops: battle, decide, wait, vote; a new cookie every
    ``per_cookie`` votes (while the address may make new voters)."""
    identity: Identity | None = None
    while not stop.is_set() and tally.votes < plan.max_votes:
        identity, issued = await next_battle(session, jar, tally, identity)
        if identity is None or issued is None:
            continue
        battle, facts = issued
        issued_at = time.perf_counter()
        choice = plan.policy(facts, rng)
        if choice is None:
            continue
        await session.settle(identity, tally)
        await asyncio.sleep(max(0.0, issued_at + session.delay - time.perf_counter()))
        if stop.is_set() or tally.votes >= plan.max_votes:
            break
        result = await session.vote(identity, battle["token"], choice, tally)
        if isinstance(result, Reply):
            identity = await jar.refused(result, identity)
        elif identity.votes % plan.per_cookie == 0:
            jar.give(identity)
            identity = None
    if identity is not None:
        jar.give(identity)


async def run_bot(session: Session, plan: BotPlan, tally: Tally, stop: asyncio.Event) -> CookieJar:
    """The bot's lanes sharing one cookie jar, until ``stop`` or ``plan.max_votes``."""
    rng = random.Random(plan.seed)
    jar = CookieJar(plan.per_cookie)
    await asyncio.gather(
        *(
            bot_lane(session, plan, jar, tally, stop, random.Random(rng.random()))
            for _ in range(plan.lanes)
        )
    )
    tally.new_refused, tally.new_wait = jar.new_refused, jar.new_retry_after
    return jar


# --- the hash-learning bot -------------------------------------------------------------------


def dhash(data: bytes) -> int:
    """A 64-bit difference hash: 9x8 grayscale, one bit per horizontal neighbour pair."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
        pixels = list(small.getdata())
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | (pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return bits


#: Two images whose difference hashes differ in at most this many of 64 bits are taken to be
#: the same picture.
DHASH_DISTANCE = 6


@dataclass
class Seen:
    """One image a hash bot was shown, what it predicted and what it was."""

    battle: int
    model: str
    output: int
    exact: bool
    perceptual: bool
    length: bool
    head_length: int | None
    get_length: int | None
    first_fetch: bool
    head_ms: float
    get_ms: float


@dataclass
class Learner:
    """What the hash bot knows: exact hashes, difference hashes and lengths, each to a model."""

    exact: dict[str, str] = field(default_factory=dict)
    perceptual: list[tuple[int, str]] = field(default_factory=list)
    lengths: dict[int, set[str]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    battles: int = 0
    fetched_outputs: set[int] = field(default_factory=set)

    def guess_perceptual(self, value: int) -> str | None:
        best, model = DHASH_DISTANCE + 1, None
        for known, name in self.perceptual:
            distance = (known ^ value).bit_count()
            if distance < best:
                best, model = distance, name
        return model

    def guess_length(self, length: int | None) -> str | None:
        models = self.lengths.get(length or -1)
        return next(iter(models)) if models and len(models) == 1 else None

    def learn(self, sha: str, value: int, length: int | None, model: str) -> None:
        self.exact[sha] = model
        if self.guess_perceptual(value) != model:
            self.perceptual.append((value, model))
        if length is not None:
            self.lengths.setdefault(length, set()).add(model)


async def _fetch(session: Session, identity: Identity, url: str) -> tuple[Reply, Reply]:
    head = await session.http.call("HEAD", path_of(url), identity)
    get = await session.http.call("GET", path_of(url), identity)
    return head, get


def _length(reply: Reply) -> int | None:
    value = reply.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


async def hash_lane(
    session: Session,
    learner: Learner,
    jar: CookieJar,
    tally: Tally,
    stop: asyncio.Event,
    rng: random.Random,
    max_battles: int,
) -> None:
    """Battle, fetch both images (HEAD then GET), guess, vote at random, learn the reveal."""
    loop = asyncio.get_running_loop()
    identity: Identity | None = None
    while not stop.is_set() and learner.battles < max_battles:
        identity, issued = await next_battle(session, jar, tally, identity)
        if identity is None or issued is None:
            continue
        battle, facts = issued
        issued_at = time.perf_counter()
        sides = []
        for side, output in (("left", facts.left_output), ("right", facts.right_output)):
            first = output not in learner.fetched_outputs
            learner.fetched_outputs.add(output)
            head, get = await _fetch(session, identity, battle[side]["image_url"])
            if get.status != 200:
                tally.refusal("image", get)
                sides = []
                break
            sha = hashlib.sha256(get.body).hexdigest()
            value = await loop.run_in_executor(None, dhash, get.body)
            sides.append((side, output, first, head, get, sha, value))
        if not sides:
            continue
        await session.settle(identity, tally)
        await asyncio.sleep(max(0.0, issued_at + session.delay - time.perf_counter()))
        result = await session.vote(identity, battle["token"], rng.choice(("left", "right")), tally)
        if isinstance(result, Reply):
            identity = await jar.refused(result, identity)
            continue
        if identity.votes % jar.per_cookie == 0:
            jar.give(identity)
            identity = None
        learner.battles += 1
        for side, output, first, head, get, sha, value in sides:
            model = result[side]["model_id"]
            learner.seen.append(
                Seen(
                    battle=learner.battles,
                    model=model,
                    output=output,
                    exact=learner.exact.get(sha) == model,
                    perceptual=learner.guess_perceptual(value) == model,
                    length=learner.guess_length(_length(get)) == model,
                    head_length=_length(head),
                    get_length=_length(get),
                    first_fetch=first,
                    head_ms=head.elapsed * 1000,
                    get_ms=get.elapsed * 1000,
                )
            )
        for side, _, _, _, get, sha, value in sides:
            learner.learn(sha, value, _length(get), result[side]["model_id"])


async def run_hash_bot(
    session: Session,
    learner: Learner,
    tally: Tally,
    stop: asyncio.Event,
    *,
    lanes: int,
    per_cookie: int,
    max_battles: int,
) -> CookieJar:
    """The hash bot's lanes sharing one cookie jar and what they learn."""
    rng = random.Random(11)
    jar = CookieJar(per_cookie)
    await asyncio.gather(
        *(
            hash_lane(session, learner, jar, tally, stop, random.Random(rng.random()), max_battles)
            for _ in range(lanes)
        )
    )
    tally.new_refused, tally.new_wait = jar.new_refused, jar.new_retry_after
    return jar
