"""The gateway's sessions: IDENTIFY and RESUME, fan-out of world events, disconnects on demand.

Every change in ``DiscordState`` arrives here as a ``GatewayEvent``; each session that
covers the guild's shard and has the intent gets it with its own sequence number. A
detached session keeps buffering, so RESUME can replay exactly what the client missed.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from socialdesk.sandbox.discord import intents, payloads
from socialdesk.sandbox.discord.connection import GatewayConnection
from socialdesk.sandbox.discord.events import GatewayEvent
from socialdesk.sandbox.discord.gateway_faults import GatewayFaults
from socialdesk.sandbox.discord.models import Guild
from socialdesk.sandbox.discord.sessions import GatewaySession
from socialdesk.sandbox.discord.settings import DiscordSettings
from socialdesk.sandbox.discord.snowflake import shard_for
from socialdesk.sandbox.discord.state import DiscordState

# Gateway opcodes and close codes, as Discord documents them.
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE, VOICE_STATE_UPDATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_GUILD_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11
CLOSE_UNKNOWN_ERROR = 4000
CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_RATE_LIMITED = 4008
CLOSE_SESSION_TIMED_OUT = 4009
CLOSE_INVALID_SHARD = 4010
CLOSE_SHARDING_REQUIRED = 4011
CLOSE_INVALID_API_VERSION = 4012
CLOSE_INVALID_INTENTS = 4013
CLOSE_DISALLOWED_INTENTS = 4014
TRACE = ['["gateway-sandbox-127-0-0-1",{"micros":0}]']
_MEMBERS_PER_CHUNK = 1000


def op_frame(op: int, data: Any = None) -> dict[str, Any]:
    return {"op": op, "d": data, "s": None, "t": None}


class GatewayHub:
    def __init__(self, state: DiscordState, settings: DiscordSettings, faults: GatewayFaults) -> None:
        self.state = state
        self.settings = settings
        self.faults = faults
        self.sessions: OrderedDict[str, GatewaySession] = OrderedDict()
        self.connections: set[GatewayConnection] = set()
        self.available = True  # False while the gateway is held down: upgrades are refused
        self.identifies = 0
        self.resume_gateway_url = ""
        state.subscribe(self.on_event)

    # -- IDENTIFY / RESUME -------------------------------------------------------------------

    def _guilds_for(self, shard: tuple[int, int] | None) -> list[Guild]:
        guilds = list(self.state.guilds.values())
        if shard is None:
            return guilds
        return [g for g in guilds if shard_for(g.id, shard[1]) == shard[0]]

    def identify(self, conn: GatewayConnection, data: Any) -> None:
        if not isinstance(data, dict) or data.get("token") != self.state.token:
            conn.close(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
            return
        requested = data.get("intents")
        if not isinstance(requested, int) or isinstance(requested, bool) or requested < 0 \
                or requested & ~intents.KNOWN:
            conn.close(CLOSE_INVALID_INTENTS, "Invalid intent(s).")
            return
        if requested & intents.PRIVILEGED & ~self.settings.enabled_privileged_intents:
            conn.close(CLOSE_DISALLOWED_INTENTS, "Disallowed intent(s).")
            return
        shard = data.get("shard")
        if shard is not None:
            if not (isinstance(shard, list) and len(shard) == 2 and all(isinstance(x, int) for x in shard)
                    and shard[1] >= 1 and 0 <= shard[0] < shard[1]):
                conn.close(CLOSE_INVALID_SHARD, "Invalid shard.")
                return
            shard = (shard[0], shard[1])
        if len(self.state.guilds) > self.settings.max_guilds_per_shard * (shard[1] if shard else 1):
            conn.close(CLOSE_SHARDING_REQUIRED, "Sharding required.")
            return
        self.identifies += 1
        session = GatewaySession(user_id=self.state.bot.id, intents=requested, shard=shard,
                                 buffer_size=self.settings.resume_buffer_events)
        self._remember(session)
        guilds = self._guilds_for(shard)
        conn.send(session.dispatch_frame("READY", self._ready(session, guilds)))
        if session.has_intent(intents.GUILDS):
            large_threshold = data.get("large_threshold", 50)
            for guild in guilds:
                conn.send(session.dispatch_frame("GUILD_CREATE", self._guild_create(guild, session, large_threshold)))
        self._attach(session, conn)

    def resume(self, conn: GatewayConnection, data: Any) -> None:
        if not isinstance(data, dict) or data.get("token") != self.state.token:
            conn.close(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
            return
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        frames = None
        if session is not None and not session.expired(self.settings.resume_window_seconds):
            frames = session.replay_after(seq if isinstance(seq, int) else 0)
        if session is None or frames is None:
            if session is not None:
                session.invalid = True
            conn.send(op_frame(INVALID_SESSION, False))
            return
        previous = session.connection
        if previous is not None and previous is not conn:
            previous.close(CLOSE_UNKNOWN_ERROR, "Session resumed on another connection.")
        for frame in frames:
            conn.send(frame)
        conn.send(session.dispatch_frame("RESUMED", {"_trace": TRACE}, buffered=False))
        session.resumes += 1
        self._attach(session, conn)

    def _attach(self, session: GatewaySession, conn: GatewayConnection) -> None:
        session.connection = conn
        session.detached_at = None
        session.connection_paths.append(conn.path)
        conn.session = session

    def _remember(self, session: GatewaySession) -> None:
        window = self.settings.resume_window_seconds
        for key, old in list(self.sessions.items()):
            if old.expired(window):
                del self.sessions[key]
        while len(self.sessions) >= self.settings.max_sessions:
            stale = next((k for k, s in self.sessions.items() if not s.connected), None)
            if stale is None:
                break
            del self.sessions[stale]
        self.sessions[session.session_id] = session

    def _ready(self, session: GatewaySession, guilds: list[Guild]) -> dict[str, Any]:
        app = self.state.application
        data: dict[str, Any] = {
            "v": 10, "user": payloads.current_user(self.state.bot), "user_settings": {},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id, "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(app.id), "flags": intents.application_flags(
                self.settings.enabled_privileged_intents)},
            "private_channels": [], "relationships": [], "presences": [], "guild_join_requests": [],
            "geo_ordered_rtc_regions": [], "auth": {}, "_trace": TRACE,
        }
        if session.shard is not None:
            data["shard"] = list(session.shard)
        return data

    def _guild_create(self, guild: Guild, session: GatewaySession, large_threshold: int) -> dict[str, Any]:
        state = self.state
        # Without GUILD_PRESENCES Discord lists only the bot itself; the rest come by REQUEST_GUILD_MEMBERS.
        listed = guild.members.values() if session.has_intent(intents.GUILD_PRESENCES) \
            else [guild.members[state.bot.id]]
        return {
            **payloads.guild(guild), "joined_at": payloads.iso(guild.joined_at),
            "large": len(guild.members) >= large_threshold, "unavailable": False,
            "member_count": len(guild.members), "voice_states": [],
            "members": [payloads.member(m, state.users[m.user_id]) for m in listed],
            "channels": [payloads.channel(c) for c in state.guild_channels(guild.id)],
            "threads": [state.channel_payload(t) for t in state.active_threads(guild.id)],
            "presences": [], "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "lazy": True,
        }

    # -- other client requests -----------------------------------------------------------------

    def request_members(self, conn: GatewayConnection, data: Any) -> None:
        session = conn.session
        if session is None or not isinstance(data, dict):
            return
        guild_ids = data.get("guild_id")
        guild_ids = guild_ids if isinstance(guild_ids, list) else [guild_ids]
        query = data.get("query")
        limit = data.get("limit") or 0
        user_ids = {int(u) for u in data.get("user_ids") or []}
        for raw_id in guild_ids:
            guild = self.state.guilds.get(int(raw_id)) if str(raw_id).isdigit() else None
            if guild is None or not session.covers(guild.id):
                continue
            members = list(guild.members.values())
            if user_ids:
                members = [m for m in members if m.user_id in user_ids]
            elif query:
                members = [m for m in members if self.state.users[m.user_id].username.lower()
                           .startswith(str(query).lower())]
            elif not session.has_intent(intents.GUILD_MEMBERS):
                members = []  # the whole list needs the GUILD_MEMBERS intent
            if limit:
                members = members[:limit]
            chunks = [members[i:i + _MEMBERS_PER_CHUNK] for i in range(0, len(members), _MEMBERS_PER_CHUNK)] or [[]]
            for index, chunk in enumerate(chunks):
                body: dict[str, Any] = {
                    "guild_id": str(guild.id), "chunk_index": index, "chunk_count": len(chunks),
                    "members": [payloads.member(m, self.state.users[m.user_id]) for m in chunk],
                    "not_found": [str(u) for u in user_ids - {m.user_id for m in guild.members.values()}]
                    if index == 0 else [],
                }
                if data.get("nonce"):
                    body["nonce"] = data["nonce"]
                conn.send(session.dispatch_frame("GUILD_MEMBERS_CHUNK", body))

    # -- world events ------------------------------------------------------------------------

    def on_event(self, event: GatewayEvent) -> None:
        window = self.settings.resume_window_seconds
        for session in list(self.sessions.values()):
            if session.expired(window) or not session.covers(event.guild_id) or not session.has_intent(event.intent):
                continue
            data = event.data
            if event.content_gated and not intents.may_read_content(
                    data, self.state.bot.id, session.has_intent(intents.MESSAGE_CONTENT)):
                data = intents.strip_message_content(data)
            frame = session.dispatch_frame(event.name, data)
            conn = session.connection
            if conn is not None and conn.send(frame):
                self._maybe_fault(session, conn)

    def _maybe_fault(self, session: GatewaySession, conn: GatewayConnection) -> None:
        fault = self.faults.choose()
        if fault is None:
            return
        session.detach()
        if fault == "drop":
            conn.drop()
        else:
            conn.close(CLOSE_UNKNOWN_ERROR, "Sandbox fault: disconnect.")

    def connection_closed(self, conn: GatewayConnection, client_code: int | None) -> None:
        """The websocket is gone. A client closing with 1000/1001 ends its session, as on Discord."""
        self.connections.discard(conn)
        session = conn.session
        if session is not None and session.connection is conn:
            session.detach()
            if client_code in (1000, 1001):
                session.invalid = True

    # -- on demand ---------------------------------------------------------------------------

    def disconnect(self, code: int, reason: str, resumable: bool, hold: bool) -> int:
        if hold:
            self.available = False
        closed = 0
        for conn in list(self.connections):
            session = conn.session
            if session is not None and session.connection is conn:
                session.detach()
                session.invalid = session.invalid or not resumable
            if not conn.closing:
                conn.close(code, reason)
                closed += 1
        return closed

    def send_reconnect(self) -> int:
        """op 7: the client should reconnect and RESUME; its session stops receiving live events."""
        sent = 0
        for conn in list(self.connections):
            session = conn.session
            if session is not None and session.connection is conn and conn.send(op_frame(RECONNECT)):
                session.detach()
                sent += 1
        return sent

    def invalidate_sessions(self, resumable: bool) -> int:
        """op 9 with ``d=resumable`` to every identified connection."""
        sent = 0
        for conn in list(self.connections):
            session = conn.session
            if session is not None and session.connection is conn and conn.send(op_frame(INVALID_SESSION, resumable)):
                session.detach()
                session.invalid = not resumable
                conn.session = None
                sent += 1
        return sent
