"""The conversation engine: events, replies, sessions, workflows, dispatch and the manager.

Transport-free: channels turn updates into :class:`Event` and render :class:`Reply`;
workflows are declarative :class:`Workflow` definitions; :class:`StateManager` applies events
durably through a :class:`~statbot.engine.stores.SessionStore`.
"""

from __future__ import annotations

from statbot.engine.delivery import Deliverer
from statbot.engine.dispatch import Dispatcher, Outcome
from statbot.engine.errors import (
    QuarantinedSessionError,
    StaleVersionError,
    TransitionError,
    WorkflowDefinitionError,
)
from statbot.engine.events import ConversationKey, Event, EventKind, Upload
from statbot.engine.manager import StateManager
from statbot.engine.migrations import Migrations
from statbot.engine.options import EngineConfig
from statbot.engine.replies import DONE_OPTION, Option, OutboxItem, Reply, ReplyKind
from statbot.engine.session import SCHEMA_VERSION, Session, SessionStatus
from statbot.engine.workflow import (
    Context,
    Prerequisite,
    State,
    Workflow,
    WorkflowRegistry,
)

__all__ = [
    "DONE_OPTION",
    "SCHEMA_VERSION",
    "Context",
    "ConversationKey",
    "Deliverer",
    "Dispatcher",
    "EngineConfig",
    "Event",
    "EventKind",
    "Migrations",
    "Option",
    "OutboxItem",
    "Outcome",
    "Prerequisite",
    "QuarantinedSessionError",
    "Reply",
    "ReplyKind",
    "Session",
    "SessionStatus",
    "StaleVersionError",
    "State",
    "StateManager",
    "TransitionError",
    "Upload",
    "Workflow",
    "WorkflowDefinitionError",
    "WorkflowRegistry",
]
