"""A Discord-compatible server on loopback (REST v10 + gateway) for testing the bot with the real discord.py.

fake = await DiscordFake().start()
restore = point_discord_py_at(fake.api_url, fake.gateway_url, fake.cdn_url)
... run the bot with fake.token ...
handle = await fake.slash_command("video", {"prompt": "a cat"}, user="alice")
await handle.wait_ack()
fake.assert_no_violations()
"""

from .interactions import InteractionHandle, InteractionState
from .mentions import Ping, pings
from .models import Channel, FakeClock, Guild, Member, Role, User
from .recording import RecordedFile, RecordedRequest, Violation
from .server import DiscordError, DiscordFake, discord_py_pointed_at, point_discord_py_at
from .spec import DiscordSpec, FieldError, load_spec

__all__ = [
    "Channel",
    "DiscordError",
    "DiscordFake",
    "DiscordSpec",
    "FakeClock",
    "FieldError",
    "Guild",
    "InteractionHandle",
    "InteractionState",
    "Member",
    "Ping",
    "RecordedFile",
    "RecordedRequest",
    "Role",
    "User",
    "Violation",
    "discord_py_pointed_at",
    "load_spec",
    "pings",
    "point_discord_py_at",
]
