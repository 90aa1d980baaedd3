"""Who may see a clip again: clips made in a private channel or thread stay there.

A clip's number is printed on its card, and numbers follow each other, so a clip is named by anyone. In
Discord a member may name or see a clip (``/show``, ``/top``, ``/bridge``, ``/verify``) only when they
can view the channel or thread it was posted in (:func:`member_may_see`): View Channel there, as
discord.py computes it from the server's roles and the channel's overwrites (a thread: its parent's),
and for a private thread, which discord.py does not look into, membership of the thread or Manage
Threads too. A clip a member may not see is refused exactly as a clip that does not exist.

The web gallery shows the world only clips posted where @everyone could view them. The bot records that
(``jobs.public_channel``, migration V22) when it posts a clip (:mod:`bot.cogs.visibility`, on the
delivery loop's ``clip_posted``); a clip posted before this was recorded counts as private until the
bot, at start, finds its channel and records what @everyone may do there now. A clip whose channel is
gone for good is recorded as private; one the bot may not look at now stays unknown (hidden) and is
looked at again at the next start. A clip made of other clips (an extension, a bridge, an HD version, a
remix or a loop: their frames, or their prompt and seed, are in it; ``db.credentials.clip_ingredients``)
is public only when they are public too: a bridge posted in a public thread that ends on a #staff clip
holds #staff's frames, so the gallery does not show it (:func:`made_of_public`).

A member may bridge a clip only into a place where everyone who sees the bridge may see that clip: one
of a channel @everyone can view, or of the channel the bridge is posted in (:func:`shown_with`); the
note a bridge leaves in the thread of the clip it ends on is left only where everyone who reads it may
see the bridge.

Deleting a clip (its 🗑️ on the original or on any copy) deletes its original message and every copy
``/show`` posted (``store.jobs.copies``), wherever they are."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from db.credentials import clip_ingredients
from db.store import Job

if TYPE_CHECKING:
    from bot.app import VideoBot

log = logging.getLogger(__name__)

Place = discord.abc.GuildChannel | discord.Thread


async def clip_place(bot: VideoBot, job: Job) -> Place | None:
    """The channel or thread the clip was posted in (from the cache, or from Discord for an archived
    thread); None when it is gone or the bot may not look at it."""
    return await place_of(bot, job.guild_id, job.channel_id)


async def place_of(bot: VideoBot, guild_id: int, channel_id: int) -> Place | None:
    """A channel or thread of a server (from the cache, or from Discord for an archived thread); None
    when it is gone or the bot may not look at it."""
    guild = bot.get_guild(guild_id)
    place = guild.get_channel_or_thread(channel_id) if guild is not None else None
    if place is None:
        try:
            fetched = await bot.fetch_channel(channel_id)
        except (discord.NotFound, discord.Forbidden, discord.InvalidData):
            return None
        if not isinstance(fetched, (discord.abc.GuildChannel, discord.Thread)):
            return None
        place = fetched
    return place


async def thread_member(thread: discord.Thread, user_id: int) -> bool:
    """Whether a member is in a (private) thread, asked of Discord when the cache does not say."""
    if thread.owner_id == user_id or any(m.id == user_id for m in thread.members):
        return True
    try:
        await thread.fetch_member(user_id)
    except discord.NotFound:
        return False
    return True


async def may_view(place: Place, member: discord.Member) -> bool:
    """Whether ``member`` can view ``place``: View Channel there (a thread: in its parent), and for a
    private thread membership or Manage Threads."""
    try:
        perms = place.permissions_for(member)
    except discord.ClientException:  # a thread whose parent is not cached
        return False
    if not perms.view_channel:
        return False
    if isinstance(place, discord.Thread) and place.is_private() and not perms.manage_threads:
        try:
            return await thread_member(place, member.id)
        except discord.HTTPException:
            return False
    return True


def everyone_may_view(place: Place) -> bool:
    """Whether @everyone can view ``place`` (never a private thread)."""
    if isinstance(place, discord.Thread) and place.is_private():
        return False
    try:
        return place.permissions_for(place.guild.default_role).view_channel
    except discord.ClientException:
        return False


def home_of(place: Place) -> int:
    """The channel a place is, or the channel a thread is in."""
    if isinstance(place, discord.Thread):
        return place.parent_id
    return place.id


def shown_with(place: Place, here: Place) -> bool:
    """Whether everyone who can view ``here`` can view ``place``: @everyone can view it, or it is
    ``here``'s own channel, or a thread of it that is not private (a thread has its channel's
    permissions)."""
    if everyone_may_view(place):
        return True
    if isinstance(place, discord.Thread) and place.is_private():
        return place.id == here.id
    return home_of(place) == home_of(here)


def made_from(job: Job) -> list[int]:
    """The clips a clip is made of (their frames, or their prompt and seed): an extension's, a
    bridge's two, an HD version's draft, a remix's or a loop's (``db.credentials.clip_ingredients``)."""
    return [source for source, _how in clip_ingredients(job.kind, job.parent_id, job.spec.bridges_to)]


async def made_of_public(bot: VideoBot, job: Job, *, depth: int = 0) -> bool:
    """Whether every clip ``job`` is made of is public (:func:`is_public`); a clip the store no longer
    has counts as private."""
    for source_id in made_from(job):
        source = await bot.store.jobs.get(source_id)
        if source is None or not await is_public(bot, source, depth=depth + 1):
            return False
    return True


async def is_public(bot: VideoBot, job: Job, *, depth: int = 0) -> bool:
    """Whether the world may see ``job``: as recorded (``jobs.public_channel``), or, not recorded yet,
    whether @everyone can view its channel now and every clip it is made of is public."""
    if job.public_channel is not None:
        return job.public_channel
    if depth > 16:  # a chain this long is not looked through any further: private
        return False
    place = await clip_place(bot, job)
    if place is None or not everyone_may_view(place):
        return False
    return await made_of_public(bot, job, depth=depth)


async def may_go_into(bot: VideoBot, clip: Job, home: Place | None) -> bool:
    """Whether ``clip``'s frames may go into a clip posted at ``home`` (a bridge): everyone who can
    view ``home`` can see ``clip`` there already (its own channel, or a thread of it), or the world
    may see it (@everyone can view its channel and every clip it is made of is public)."""
    place = await clip_place(bot, clip)
    if place is None or home is None:
        return bool(clip.public_channel) and home is not None
    if not everyone_may_view(place):
        return shown_with(place, home)
    return await made_of_public(bot, clip)


def may_need_discord(bot: VideoBot, interaction: discord.Interaction[VideoBot], job: Job) -> bool:
    """Whether :meth:`Viewer.sees` may have to ask Discord (an archived thread not in the cache, or a
    private thread whose members the cache may not know): then the interaction is acknowledged first."""
    if job.guild_id != interaction.guild_id or job.channel_id == interaction.channel_id:
        return False
    guild = bot.get_guild(job.guild_id)
    place = guild.get_channel_or_thread(job.channel_id) if guild is not None else None
    return place is None or (isinstance(place, discord.Thread) and place.is_private())


class Viewer:
    """One member's view of the server's clips, asked once per channel (a /top looks at many clips)."""

    def __init__(self, bot: VideoBot, interaction: discord.Interaction[VideoBot]) -> None:
        self.bot = bot
        self.interaction = interaction
        self._places: dict[int, Place | None] = {}
        self._sees: dict[int, bool] = {}

    async def place(self, job: Job) -> Place | None:
        if job.channel_id not in self._places:
            self._places[job.channel_id] = await clip_place(self.bot, job)
        return self._places[job.channel_id]

    async def sees(self, job: Job) -> bool:
        """Whether the member may name or see ``job`` (a clip of this server): it was posted right
        here, or they can view the channel or thread it was posted in. A channel that is gone: only
        when @everyone could view it when the clip was posted."""
        interaction = self.interaction
        if job.guild_id != interaction.guild_id:
            return False
        if job.channel_id == interaction.channel_id:
            return True
        if job.channel_id in self._sees:
            return self._sees[job.channel_id]
        member = interaction.user
        place = await self.place(job)
        if place is None:
            seen = bool(job.public_channel)  # gone: what @everyone could do when it was posted
        elif not isinstance(member, discord.Member):
            seen = False
        else:
            seen = await may_view(place, member)
        self._sees[job.channel_id] = seen
        return seen

    async def for_everyone(self, job: Job) -> bool:
        """Whether @everyone may see ``job`` (its channel now; one that is gone: when it was posted)."""
        place = await self.place(job)
        return bool(job.public_channel) if place is None else everyone_may_view(place)


async def member_may_see(bot: VideoBot, interaction: discord.Interaction[VideoBot], job: Job) -> bool:
    """Whether the member who interacts may name or see ``job``: see :meth:`Viewer.sees`."""
    return await Viewer(bot, interaction).sees(job)


async def delete_message(bot: VideoBot, channel_id: int, message_id: int) -> None:
    """Delete one of the bot's messages; nothing when it is gone already or out of the bot's reach."""
    try:
        channel = await bot.messageable(channel_id)
        partial = channel.get_partial_message(message_id)  # type: ignore[attr-defined]
        await partial.delete()
    except (discord.NotFound, discord.Forbidden):
        pass
    except discord.HTTPException:
        log.warning("could not delete message %s in %s", message_id, channel_id, exc_info=True)


async def delete_clip_messages(bot: VideoBot, job: Job, *, besides: int | None = None) -> None:
    """A clip was deleted: its original message (``job.message_id``, in the channel or thread it was
    posted in, ``job.channel_id``) and every copy /show posted go, but ``besides`` (the message its
    🗑️ was pressed on, deleted already)."""
    places = [(job.channel_id, job.message_id)] if job.message_id is not None else []
    places += await bot.store.jobs.copies(job.id)
    for channel_id, message_id in places:
        if message_id != besides:
            await delete_message(bot, channel_id, message_id)
