"""The voting pages: /arena and /arena/<competition>, the vote and next-battle actions, images.

One template fragment (``arena/_battle.html``) serves both the full page and the htmx swap:
before the vote it shows the anonymous images and the vote buttons, after it the reveal.
``?size=4`` (or the page's toggle) asks for best-of-four battles: four images in a 2x2 grid,
the voter picks the best. Skip is a plain link back to the page (``vote_page``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from arena.db import storable
from arena.errors import ArenaError, NotFound, ValidationError
from arena.generation.encoding import BATTLE_MIMETYPE
from arena.models import utcnow
from arena.services.voting import battles, ranking, recording, variants, voters
from arena.services.voting.matchmaking import MatchmakingSettings
from arena.web.db import get_db
from arena.web.htmx import is_htmx, vary_on_htmx
from arena.web.security import voting_limits
from arena.web.voters import current_voter, remember_voter, request_address_hash, request_voter

bp = Blueprint("arena", __name__)


def _size(value: str | None) -> int:
    """The battle size a page asks for: ``4`` (best of four), else ``2``.

    Raises:
        ValidationError: anything but 2, 4 or nothing.
    """
    if value in (None, "", "2"):
        return 2
    if value == "4":
        return 4
    raise ValidationError(
        "size must be 2 (two images) or 4 (best of four); leave it out for two", field="size"
    )


def _page(slug: str | None, size: int = 2) -> battles.VotingPage:
    if slug is not None and not storable(slug):
        raise NotFound(f"no competition with slug {slug!r}", field="competition")
    page = battles.voting_page(
        get_db(),
        request_voter(),
        slug,
        ttl=current_app.config["BATTLE_TTL"],
        settings=MatchmakingSettings.from_config(current_app.config),
        size=size,
    )
    remember_voter(page.voter)
    return page


def _render(
    battle: battles.IssuedBattle | None,
    *,
    votes: int,
    result: recording.VoteResult | ranking.GroupVoteResult | None = None,
    problem: ArenaError | None = None,
    slug: str | None = None,
    status: int = 200,
    needs_proof: bool = False,
    size: int = 2,
) -> Any:
    context = {
        "battle": battle,
        "result": result,
        "problem": problem,
        "slug": slug,
        "votes": votes,
        "needs_proof": needs_proof,
        "size": battle.size if battle is not None else size,
    }
    template = "arena/_battle.html" if is_htmx() else "arena/vote.html"
    return vary_on_htmx(render_template(template, **context)), status


@bp.get("/arena")
@bp.get("/arena/<slug>")
@voting_limits("battles")
def vote_page(slug: str | None = None) -> Any:
    """A fresh battle, in the named competition or in one that needs votes (``?size=4``: best
    of four). The page's Skip links here too (htmx swaps the fragment in): the skipped battle
    simply stays unvoted, so nothing is recorded for it."""
    size = _size(request.args.get("size"))
    page = _page(slug, size)
    status = page.problem.status if page.problem is not None and slug is not None else 200
    # The page proves the new-voter work in the background while the person looks.
    needs_proof = current_app.config["POW"] and not voters.is_verified(get_db(), page.voter)
    return _render(
        page.battle,
        votes=page.votes,
        problem=page.problem,
        slug=slug,
        status=status,
        needs_proof=needs_proof,
        size=size,
    )


@bp.post("/arena/vote")
@voting_limits("votes")
def vote() -> Any:
    """Record the form's vote (``winner``, or ``best`` for best of four) and show the reveal
    (fragment for htmx, page otherwise)."""
    token = request.form.get("token", "")
    slug = request.form.get("competition") or None
    if not token:
        raise ValidationError("the form lost its battle token; load a new battle", field="token")
    cast = recording.vote_from_page
    choice = request.form.get("winner", "")
    if "best" in request.form:
        cast, choice = ranking.best_from_page, request.form["best"]
    voted = cast(
        get_db(),
        token,
        current_voter(),
        choice,
        k=current_app.config["ELO_K"],
        rules=recording.VoteRules.from_config(current_app.config),
        address_hash=request_address_hash(),
    )
    return _render(voted.battle, votes=voted.votes, result=voted.result, slug=slug)


@bp.post("/arena/next")
@voting_limits("battles")
def next_battle() -> Any:
    """The next battle: a fragment for htmx, a redirect to the voting page otherwise."""
    slug = request.form.get("competition") or None
    size = _size(request.form.get("size"))
    if not is_htmx():
        extra = {"size": 4} if size == 4 else {}
        target = (
            url_for("arena.vote_page", slug=slug, **extra)
            if slug
            else url_for("arena.vote_page", **extra)
        )
        return redirect(target, code=303)
    page = _page(slug, size)
    return _render(page.battle, votes=page.votes, problem=page.problem, slug=slug, size=size)


def _variant_worker() -> variants.VariantWorker:
    """This process's battle-image worker for the app (made at its first use)."""
    worker = current_app.extensions.get("arena.variants")
    if worker is None:
        worker = variants.VariantWorker(
            get_db(),
            current_app.config["MEDIA_DIR"],
            current_app.config["SECRET_KEY"],
            variants.VariantSettings.from_config(current_app.config),
        )
        current_app.extensions["arena.variants"] = worker
    return worker


@bp.before_app_request
def _start_variant_worker() -> None:
    """Serving processes refill the variant pools from their first request on."""
    worker = _variant_worker()
    if worker.settings.maintain:
        worker.ensure_running()


@bp.get("/battle-images/<key>.webp", endpoint="battle_image")
def battle_image_file(key: str) -> Response:
    """One side of a battle: a variant made ahead of time for this side alone (fresh bytes,
    the competition's fixed length), served only to the battle's voter while it is servable.

    Any other request (another voter, no cookie, an expired or long-voted battle, an unknown
    key) gets the same 404, so it does not learn whether the image exists.
    """
    if len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
        raise NotFound("no such battle image")
    source = battles.battle_image_source(get_db(), key)
    voter, worker = current_voter(), _variant_worker()
    settings = worker.settings
    if (
        voter is None
        or voter.id != source.voter_id
        or not variants.servable(source.expires_at, source.voted_at, utcnow(), settings.grace)
    ):
        raise NotFound("no such battle image")
    data = worker.variant(
        variants.VariantSource(
            source.output_id,
            source.image_name,
            source.width,
            source.height,
            variants.length_for(source.max_pixels, settings),
        ),
        key,
    )
    response = Response(data, mimetype=BATTLE_MIMETYPE)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
