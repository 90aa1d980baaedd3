"""What the bot says when it has logged in, and the link that adds it to a server with exactly the
permissions it uses."""

from __future__ import annotations

import discord

# what the bot does in a channel: read it, post clips (files, embeds), open a thread under each clip
# and post into it, and fetch an old clip's message again (/show of a clip whose file was pruned)
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
)
SCOPES = ("bot", "applications.commands")


def invite_url(application_id: int) -> str:
    """Discord's authorize link for this application: the bot and its slash commands, these permissions."""
    return discord.utils.oauth_url(application_id, permissions=BOT_PERMISSIONS, scopes=SCOPES)


def start_line(name: str, servers: int, application_id: int) -> str:
    """'videobot: logged in as Clipper in 3 servers; add it to a server with https://…'."""
    count = "1 server" if servers == 1 else f"{servers} servers"
    return f"videobot: logged in as {name} in {count}; add it to a server with {invite_url(application_id)}"
