"""Content credentials where clips are posted (issue 21): the bot signs every clip before it uploads it.

Why here, and not on the GPU hosts: the signing key then lives only where the bot runs (one host, or the
few of a sharded bot), not on every GPU host an operator adds or rents, and the bot is the one part that
knows what a manifest must say: the server's name and the names its members agreed to show. A worker
leaves room for the manifest under the upload limit (``db.credentials.post_reserve``), so the signed clip
still fits.

What is signed: the clip's stored mp4, with a manifest (:mod:`db.credentials`) that says a model made it,
which one, on which server, its authors (a member by the name they agreed to show in the gallery, else
"a member of <server>"), and what it was made from: its parent clips as the store has them (signed
when they were posted, so their own manifests travel inside) and the member's pictures. The signed file
replaces the stored one (``store.jobs.put_signed``): the gallery, ``/show`` and a later extend all get
it, and a post tried again after a crash finds it signed and signs nothing twice.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PureWindowsPath
from typing import TYPE_CHECKING

from PIL import Image

from db.credentials import (
    CHAIN_ALLOWANCE,
    ClipFacts,
    CredentialsError,
    Ingredient,
    Keys,
    chain_bytes,
    clip_ingredients,
    ensure_keys,
    manifest_store_bytes,
    manifest_store_size,
    sign_clip,
)
from db.media import Media, StoreFull
from db.presets import PresetCatalog
from db.store import Job, Store
from db.store.styles import Style

if TYPE_CHECKING:
    from bot.app import VideoBot

log = logging.getLogger(__name__)

HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")  # Org/Repo


def public_source(source: str) -> str:
    """Where a preset's weights came from, as a manifest anyone may read says it: a hub id as it is, a
    folder on the GPU hosts by its name only (never the host's path to it)."""
    if HUB_ID.fullmatch(source):
        return source
    return PureWindowsPath(source).name or source  # either kind of slash


async def signing_keys(store: Store) -> Keys:
    """The installation's keys (made on first start), with their root recorded in the store so that every
    shard and the gallery know the installation's clips. Raises CredentialsError (one line) when they
    cannot be made or read: a bot that cannot sign does not start."""
    keys = await asyncio.to_thread(ensure_keys)
    await store.credentials.record_signer(keys.root_pem, keys.chain_pem)
    if chain_bytes(keys) > CHAIN_ALLOWANCE:
        log.warning(
            "the signing certificate chain is %d bytes, more than the %d the workers leave room for: "
            "a clip that fills its upload limit may be posted without content credentials",
            chain_bytes(keys),
            CHAIN_ALLOWANCE,
        )
    return keys


def member_of(server: str) -> str:
    """How a member who did not agree to be named is credited outside the server."""
    return f"a member of {server}"


def credited_authors(user_ids: Sequence[int], named: Mapping[int, str], server: str) -> tuple[str, ...]:
    """The authors a manifest names, in the order of the chain: a member by the name they agreed to show
    (``named``), anyone else as "a member of <server>" (once)."""
    return tuple(dict.fromkeys(named.get(user_id) or member_of(server) for user_id in user_ids))


def style_credit(style: Style | None, named: Mapping[int, str], server: str) -> str | None:
    """A style as a manifest names it: "Claymation by Ada, CC BY 4.0". Its author is a member only by the
    name they agreed to show; an author the admin wrote as text (someone who published the LoRA) as
    written."""
    if style is None:
        return None
    if style.author_id is not None:
        author: str | None = named.get(style.author_id) or member_of(server)
    else:
        author = style.author.strip() or None
    text = style.name + (f" by {author}" if author else "")
    return text + (f", {style.license.strip()}" if style.license.strip() else "")


def clip_facts(
    job: Job,
    catalog: PresetCatalog,
    *,
    server: str,
    authors: tuple[str, ...],
    style: str | None,
    ingredients: tuple[Ingredient, ...],
) -> ClipFacts:
    """What the manifest of ``job``'s clip states."""
    preset = catalog.get(job.model)
    return ClipFacts(
        model=job.model,
        model_title=preset.title if preset is not None else job.model,
        pipeline=preset.pipeline if preset is not None else "?",
        source=public_source(preset.source) if preset is not None else "?",
        style=style,
        server=server,
        server_id=job.guild_id,
        authors=authors,
        ingredients=ingredients,
        title=f"videobot-{job.id}.mp4",
    )


@dataclass(frozen=True)
class Signed:
    media: Media  # what to post: the signed clip, or the stored one as it was
    signed_now: bool
    error: str | None = None  # why it could not be signed


async def agreed_names(store: Store, guild_id: int, user_ids: Sequence[int]) -> dict[int, str]:
    """The names the members among ``user_ids`` agreed to show publicly (``/me gallery-name``)."""
    named = {}
    for user_id in dict.fromkeys(user_ids):
        profile = await store.profiles.member_profile(guild_id, user_id)
        if profile is not None and profile.show_name and profile.display_name:
            named[user_id] = profile.display_name
    return named


async def _ingredient_files(store: Store, job: Job, folder: Path) -> list[Ingredient]:
    """The stored clips and pictures ``job`` was made from, written into ``folder``; a clip or picture
    no longer stored is left out."""
    found: list[Ingredient] = []
    for clip_id, relationship in clip_ingredients(job.kind, job.parent_id, job.spec.bridges_to):
        media = await store.jobs.get_media(clip_id)
        if media is None:
            continue
        path = folder / f"clip-{clip_id}.mp4"
        await asyncio.to_thread(path.write_bytes, media.video)
        found.append(Ingredient(path, relationship, title=f"videobot clip #{clip_id}"))
    pictures = (("starting picture", job.spec.image_ref), ("end picture", job.spec.end_image_ref))
    for title, ref in pictures:
        data = await store.jobs.get_input(ref) if ref is not None else None
        if data is None or ref is None:
            continue
        path = folder / f"{title.split()[0]}.png"
        try:
            await asyncio.to_thread(path.write_bytes, await asyncio.to_thread(pixels_only, data))
        except (OSError, ValueError) as exc:  # checked when it was stored: not expected
            log.warning("job %s: its %s is left out of its credentials: %s", job.id, title, exc)
            continue
        found.append(Ingredient(path, "inputTo", title=title))
    return found


def pixels_only(picture: bytes) -> bytes:
    """A member's picture as a manifest may carry it: its pixels as a PNG, none of what the file carried
    besides (EXIF with its camera, place and owner, other metadata, its own content credentials with
    their thumbnails, which would travel inside the clip's public manifest and may not fit its room)."""
    with Image.open(io.BytesIO(picture)) as opened:
        opened.load()
        image = opened.convert("RGBA" if "A" in opened.getbands() else "RGB")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def job_facts(
    store: Store,
    catalog: PresetCatalog,
    job: Job,
    folder: Path,
    *,
    server: str,
    lineage: Sequence[Job],
    style: Style | None,
    ingredients: tuple[Ingredient, ...] | None = None,
) -> ClipFacts:
    """What the manifest of ``job``'s clip states; its ingredients' files are written into ``folder``
    (or ``ingredients`` are those given)."""
    if ingredients is None:
        ingredients = tuple(await _ingredient_files(store, job, folder))
    chain = [clip.user_id for clip in lineage] or [job.user_id]
    style_author = [style.author_id] if style is not None and style.author_id is not None else []
    named = await agreed_names(store, job.guild_id, [*chain, *style_author])
    return clip_facts(
        job,
        catalog,
        server=server,
        authors=credited_authors(chain, named, server),
        style=style_credit(style, named, server),
        ingredients=ingredients,
    )


def _sign(source: Path, facts: ClipFacts, keys: Keys, limit: int) -> tuple[bytes, int]:
    """``source`` signed with ``facts``: its bytes and its manifest store's size. Raises CredentialsError."""
    signed = source.with_name(f"signed-{source.name}")
    sign_clip(source, signed, facts, keys, max_bytes=limit)
    return signed.read_bytes(), manifest_store_bytes(signed)


def sign_poster(poster: bytes, clip: Path, facts: ClipFacts, keys: Keys, job_id: int) -> bytes:
    """A clip's poster (its first frame, a PNG: the hall of fame posts it, the gallery shows it) signed as
    a still taken from the signed clip at ``clip`` (its ``parentOf`` ingredient, so the clip's own
    manifest, with the model, the authors and the chain, travels inside). Raises CredentialsError."""
    source = clip.with_name(f"poster-{job_id}.png")
    try:
        source.write_bytes(poster)
    except OSError as exc:
        raise CredentialsError(f"cannot write the poster of #{job_id}: {exc}") from exc
    title = f"videobot clip #{job_id}"
    still = replace(
        facts, ingredients=(Ingredient(clip, "parentOf", title=title),), title=f"videobot-{job_id}.png"
    )
    signed = source.with_name(f"signed-{source.name}")
    sign_clip(source, signed, still, keys)
    return signed.read_bytes()


async def sign_for_post(
    store: Store,
    catalog: PresetCatalog,
    keys: Keys,
    job: Job,
    media: Media,
    *,
    server: str,
    lineage: Sequence[Job],
    style: Style | None,
) -> Signed:
    """``job``'s clip signed (and the signed file stored in place of the unsigned one), ready to post; a
    clip that carries a manifest already (signed before a restart) as it is. A clip that cannot be signed
    (within its upload limit, or at all: a full temp disk) is returned unsigned with the reason, and one
    whose signed file cannot be stored (a full media store) is returned signed all the same: either way
    it is still posted (its card says it is AI-generated) rather than held up or lost."""
    stored = manifest_store_size(media.video)
    if stored:
        if job.manifest_bytes is None:  # stored signed, then the bot stopped before it noted the sizes
            await _keep(store, job, media, stored)
        return Signed(media, signed_now=False)
    try:
        with tempfile.TemporaryDirectory(prefix=f"videobot-sign-{job.id}-") as tmp:
            folder = Path(tmp)
            source = folder / f"videobot-{job.id}.mp4"
            await asyncio.to_thread(source.write_bytes, media.video)
            facts = await job_facts(store, catalog, job, folder, server=server, lineage=lineage, style=style)
            limit = job.spec.post_limit
            video, manifest = await asyncio.to_thread(_sign, source, facts, keys, limit)
            poster = media.poster
            if poster:
                clip = source.with_name(f"signed-{source.name}")
                try:
                    poster = await asyncio.to_thread(sign_poster, poster, clip, facts, keys, job.id)
                except CredentialsError as exc:  # the clip is signed all the same
                    log.warning("job %s: its poster is kept unsigned: %s", job.id, exc)
    except (CredentialsError, OSError) as exc:
        log.error("job %s is posted without content credentials: %s", job.id, exc)
        return Signed(media, signed_now=False, error=str(exc))
    signed = Media(video, poster)
    await _keep(store, job, signed, manifest)
    return Signed(signed, signed_now=True)


async def sign_for(
    bot: VideoBot, job: Job, media: Media, *, lineage: Sequence[Job], style: Style | None
) -> Signed:
    """:func:`sign_for_post` with ``bot``'s store, catalog, keys and the server's name."""
    return await sign_for_post(
        bot.store,
        bot.catalog,
        bot.signing_keys,
        job,
        media,
        server=bot.server_name(job.guild_id),
        lineage=lineage,
        style=style,
    )


async def _keep(store: Store, job: Job, media: Media, manifest: int) -> None:
    """The signed clip stored in place of the unsigned one; a store that cannot take it now (full) is
    logged, and the clip posted all the same (a later post of it, /show, signs it again)."""
    try:
        await store.jobs.put_signed(job.id, media.video, media.poster, manifest)
    except (OSError, StoreFull) as exc:
        log.warning("job %s: its signed clip could not be stored (%s); posted all the same", job.id, exc)


async def sign_film(
    store: Store,
    catalog: PresetCatalog,
    keys: Keys,
    scene: Job,
    parts: Sequence[bytes],
    *,
    server: str,
    name: str,
    limit: int,
    style: Style | None = None,
) -> list[bytes]:
    """A story's film as posted: ``parts`` made from ``scene``'s clip (the last scene, which holds the
    whole story) by encoding it again to fit ``limit``, each signed as made from that clip (whose own
    manifest credits every scene); a part that carries a manifest (the clip itself, when it fitted) as
    it is. A part that cannot be signed is posted unsigned, the reason logged."""
    lineage = await store.jobs.lineage(scene.id)
    signed: list[bytes] = []
    with tempfile.TemporaryDirectory(prefix=f"videobot-film-{scene.id}-") as tmp:
        folder = Path(tmp)
        clip = await store.jobs.get_media(scene.id)
        own = folder / f"clip-{scene.id}.mp4"
        if clip is not None:
            await asyncio.to_thread(own.write_bytes, clip.video)
        made_from = (Ingredient(own, "componentOf", title=f"videobot clip #{scene.id}"),)
        facts = await job_facts(
            store,
            catalog,
            scene,
            folder,
            server=server,
            lineage=lineage,
            style=style,
            ingredients=made_from if clip is not None else (),
        )
        for number, data in enumerate(parts, 1):
            source = folder / f"{name}-{number}.mp4"
            await asyncio.to_thread(source.write_bytes, data)
            if await asyncio.to_thread(manifest_store_bytes, source):
                signed.append(data)
                continue
            part = replace(facts, title=source.name)
            try:
                video, _ = await asyncio.to_thread(_sign, source, part, keys, limit)
            except CredentialsError as exc:
                log.error("%s is posted without content credentials: %s", source.name, exc)
                video = data
            signed.append(video)
    return signed
