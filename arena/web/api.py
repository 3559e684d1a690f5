"""The JSON API under /api/v1: battles, votes, and the new voter's proof of work."""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.wsgi import wrap_file

from arena.db import storable
from arena.errors import NotFound, UnsupportedMediaType, ValidationError, quoted
from arena.models import utcnow
from arena.ratings.outcomes import CHOICES
from arena.services import dumps, exports
from arena.services.leaderboards import boards
from arena.services.voting import proof, voters
from arena.services.voting.battles import IssuedBattle, issue_battle
from arena.services.voting.matchmaking import MatchmakingSettings
from arena.services.voting.ranking import GroupVoteResult, parse_ranking, record_ranking
from arena.services.voting.recording import SideResult, VoteResult, VoteRules, record_vote
from arena.web.bodies import refuse_unknown_fields, request_json
from arena.web.db import get_db, get_session
from arena.web.security import first_use, voting_limits
from arena.web.voters import current_voter, remember_voter, request_address_hash, request_voter

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_TOKEN_LENGTH = 100
#: The length of the competitions' slug column.
MAX_SLUG_LENGTH = 120
#: Snapshot ids are 32-bit integer keys: ASCII digits, no sign, at most this value.
MAX_SNAPSHOT_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


def json_body(*, required: bool, fields: tuple[str, ...]) -> dict[str, Any]:
    """The request's JSON object, with no field but ``fields``; an empty body is ``{}``
    unless ``required``.

    Raises:
        UnsupportedMediaType: the body was sent with a content type other than JSON.
        ValidationError: the body is not a JSON object (or is nested too deeply), or has a
            field not in ``fields`` (``field`` names the first).
    """
    if request.mimetype and not request.is_json:
        # A cross-site HTML form can only send form encodings or text/plain: demanding JSON
        # keeps the voting API out of reach of forged forms riding on the voter's cookie.
        raise UnsupportedMediaType(
            f"the request body must be JSON sent as 'Content-Type: application/json', "
            f"not {request.mimetype!r}",
            field="Content-Type",
        )
    if not request.get_data(cache=True):
        if required:
            raise ValidationError("the request body must be a JSON object")
        return {}
    body = request_json()
    if not isinstance(body, dict):
        raise ValidationError("the request body must be a JSON object")
    refuse_unknown_fields(body, fields)
    return body


def battle_json(battle: IssuedBattle) -> dict[str, Any]:
    """The battle shape of docs/contract.md (3.5): nothing in it names a model."""

    def image(key: str) -> dict[str, str]:
        return {"image_url": url_for("arena.battle_image", key=key, _external=True)}

    shown: dict[str, Any] = (
        {"left": image(battle.left_image_key), "right": image(battle.right_image_key)}
        if battle.size == 2
        else {"images": [image(key) for key in battle.image_keys]}
    )
    return {
        "token": battle.token,
        "competition": battle.competition,
        "prompt": battle.prompt,
        **shown,
        "expires_at": battle.expires_at.isoformat().replace("+00:00", "Z"),
    }


def _side(s: SideResult) -> dict[str, Any]:
    return {
        "model_id": s.model_id,
        "model_name": s.model_name,
        "elo_before": s.elo_before,
        "elo_after": s.elo_after,
        "scopes": {k: {"elo_before": b, "elo_after": a} for k, (b, a) in s.scopes.items()},
    }


def group_vote_json(result: GroupVoteResult) -> dict[str, Any]:
    """The reveal of a best-of-four vote: every image's model, in the order shown."""
    return {
        "vote_ids": result.vote_ids,
        "competition": result.competition,
        "best": result.best,
        "ranking": result.ranking,
        "images": [_side(image) for image in result.images],
        "counted": result.counted,
        "not_counted": result.not_counted,
    }


def vote_json(result: VoteResult) -> dict[str, Any]:
    side = _side
    return {
        "vote_id": result.vote_id,
        "winner": result.winner,
        "competition": result.competition,
        "left": side(result.left),
        "right": side(result.right),
        "counted": result.counted,
        "not_counted": result.not_counted,
    }


@bp.post("/battles")
@voting_limits("battles")
def create_battle() -> Any:
    """Issue a battle for this voter: ``{competition?: slug, size?: 2|4}`` → 201."""
    body = json_body(required=False, fields=("competition", "size"))
    size = body.get("size", 2)
    if size not in (2, 4) or isinstance(size, bool):
        raise ValidationError(
            f"size must be 2 (two images) or 4 (best of four), got {quoted(size)}", field="size"
        )
    competition = body.get("competition")
    if competition is not None and not isinstance(competition, str):
        raise ValidationError("competition must be a slug string", field="competition")
    if competition and len(competition) > MAX_SLUG_LENGTH:
        raise ValidationError(
            f"competition must be a slug of at most {MAX_SLUG_LENGTH} characters",
            field="competition",
        )
    if competition and not storable(competition):
        raise NotFound(f"no competition with slug {competition!r}", field="competition")
    battle = issue_battle(
        get_db(),
        request_voter(),
        competition or None,
        ttl=current_app.config["BATTLE_TTL"],
        settings=MatchmakingSettings.from_config(current_app.config),
        size=size,
    )
    remember_voter(battle.voter)
    return jsonify(battle_json(battle)), 201


# No redirect when an encoded slash in the token makes "//": a POST should not be bounced.
@bp.post("/battles/<token>/vote", merge_slashes=False)
@voting_limits("votes")
def vote(token: str) -> Any:
    """Vote on a battle: ``{winner: left|right|tie|both_bad}`` (two images), or ``{best: 0-3}``
    or ``{ranking: [[i], [j, k], [l]]}`` (best of four) → 200 with the reveal."""
    body = json_body(required=True, fields=("winner", "best", "ranking"))
    if len(token) > MAX_TOKEN_LENGTH:
        raise NotFound("no battle has this token", field="token")
    if "best" in body or "ranking" in body:
        if "winner" in body:
            raise ValidationError(
                "give winner (two images) or best/ranking (best of four), not both",
                field="winner",
            )
        tiers = parse_ranking(body.get("best"), body.get("ranking"))
        group = record_ranking(
            get_db(),
            token,
            current_voter(),
            tiers,
            k=current_app.config["ELO_K"],
            rules=VoteRules.from_config(current_app.config),
            address_hash=request_address_hash(),
        )
        return jsonify(group_vote_json(group))
    if "winner" not in body:
        raise ValidationError(
            "winner is required: left, right, tie or both_bad (best-of-four battles take "
            "best or ranking)",
            field="winner",
        )
    winner = body["winner"]
    if not isinstance(winner, str) or winner not in CHOICES:
        raise ValidationError(
            f"winner must be one of left, right, tie or both_bad, got {quoted(winner)}",
            field="winner",
        )
    result = record_vote(
        get_db(),
        token,
        current_voter(),
        winner,
        k=current_app.config["ELO_K"],
        rules=VoteRules.from_config(current_app.config),
        address_hash=request_address_hash(),
    )
    return jsonify(vote_json(result))


def pow_key() -> bytes:
    """The HMAC key of the proof-of-work challenges, derived from the app's secret."""
    return voters.derive_key(current_app.config["SECRET_KEY"], "altcha")


@bp.get("/voters/challenge")
@voting_limits("battles")
def voter_challenge() -> Any:
    """A new proof-of-work challenge (ALTCHA v1, SHA-256), good for one verification."""
    challenge = proof.create_challenge(pow_key(), current_app.config["POW_MAXNUMBER"], utcnow())
    response = jsonify(challenge)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/voters/verify")
@voting_limits("battles")
def verify_voter() -> Any:
    """Verify this voter with a solved challenge: ``{altcha: <base64 solution>}`` → 200.

    A request without a voter gets a new one (counted against its address's new-voter limit).
    """
    body = json_body(required=True, fields=("altcha",))
    if "altcha" not in body:
        raise ValidationError(
            "altcha is required: the base64 solution of GET /api/v1/voters/challenge",
            field="altcha",
        )
    proof.verify_solution(
        pow_key(), body["altcha"], lambda name, ttl: first_use(f"altcha/{name}", ttl)
    )
    voter = request_voter(check_row=True)
    voters.mark_verified(get_db(), voter)
    return jsonify({"voter": voter.public_id, "verified": True})


def _format() -> str:
    return exports.check_format(request.args.get("format", "json"))


def _csv_response(text: str, filename: str) -> Response:
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/leaderboards/<scope>")
def leaderboard(scope: str) -> Any:
    """The latest published leaderboard of a scope (``?snapshot=<id>`` for an older one)."""
    fmt = _format()
    snapshot = request.args.get("snapshot")
    if snapshot is not None and not (
        _DIGITS.fullmatch(snapshot) and int(snapshot) <= MAX_SNAPSHOT_ID
    ):
        raise ValidationError(
            f"snapshot must be a snapshot id (a whole number from 0 to {MAX_SNAPSHOT_ID})",
            field="snapshot",
        )
    snapshot_id = int(snapshot) if snapshot is not None else None
    b = boards.board(get_session(), scope, snapshot_id=snapshot_id)
    if fmt == "csv":
        name = scope.replace(":", "-")
        return _csv_response(exports.frame_to_csv(boards.board_frame(b)), f"leaderboard-{name}.csv")
    return jsonify(exports.leaderboard_document(b))


#: Vote ids are 64-bit keys; the largest page of ``GET /votes?limit=``.
MAX_VOTE_ID, MAX_VOTE_PAGE = exports.MAX_VOTE_ID, exports.MAX_PAGE
_NO_DUMP = "no dump has been written yet (`arena dump`, or the background publisher)"


@bp.get("/votes")
def votes() -> Any:
    """The vote log (append-only), voters pseudonymous: ``?format=csv|json``, paged with
    ``?after=<vote id>&limit=<n>`` (default: every vote after ``after``).

    Streamed: the rows are read in batches and written as they are read (see
    arena.services.exports), so a worker's memory does not grow with the log. A page is
    planned first, so the ``Link: <…>; rel="next"`` header (and the JSON ``next_after``) can
    name the next one; with neither, the log was read to its end.
    """
    fmt = _format()
    after = exports.check_count(request.args.get("after"), "after", low=0, high=MAX_VOTE_ID)
    limit = exports.check_count(request.args.get("limit"), "limit", low=1, high=MAX_VOTE_PAGE)
    db = get_db()
    page = exports.plan_page(get_session(), after=after or 0, limit=limit)
    batches = exports.page_batches(db.session, current_app.config["SECRET_KEY"], page)
    if fmt == "csv":
        response = Response(exports.csv_chunks(batches), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="votes.csv"'
    else:
        chunks = exports.json_chunks(batches, next_after=page.next_after)
        response = Response(chunks, mimetype="application/json")
    if page.next_after is not None:
        query = {"format": fmt, "after": page.next_after, "limit": limit}
        response.headers["Link"] = f'<{url_for("api.votes", **query)}>; rel="next"'
    return response


@bp.get("/dumps")
def dumps_index() -> Any:
    """The latest static dump's manifest, with each file's URL (404 before the first)."""
    manifest = dumps.read_manifest(dumps.dump_folder(current_app.config["MEDIA_DIR"]))
    if manifest is None:
        raise NotFound(_NO_DUMP)
    for item in manifest["files"]:
        item["url"] = url_for("api.dump_file", name=item["name"])
    return jsonify(manifest)


@bp.get("/dumps/<name>")
def dump_file(name: str) -> Any:
    """One file of the latest static dump, as written (gzip): conditional and range requests
    are answered from the file opened, so a dump replacing it meanwhile changes nothing."""
    if name not in dumps.FILES:
        raise NotFound(f"no dump file {quoted(name)}; the files are {', '.join(dumps.FILES)}")
    path = dumps.dump_folder(current_app.config["MEDIA_DIR"]) / name
    try:
        file = open(path, "rb")  # noqa: SIM115 (closed by the response)
    except FileNotFoundError:
        raise NotFound(_NO_DUMP) from None
    stat = os.fstat(file.fileno())
    response = Response(
        wrap_file(request.environ, file), mimetype="application/gzip", direct_passthrough=True
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.content_length = stat.st_size
    response.last_modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
    response.set_etag(f"{stat.st_ino:x}-{stat.st_mtime_ns:x}-{stat.st_size:x}")
    response.cache_control.no_cache = True
    return response.make_conditional(
        request.environ, accept_ranges=True, complete_length=stat.st_size
    )
