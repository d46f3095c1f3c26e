"""The conversations statbot offers, built on the engine and the analysis core.

``default_registry()`` is the one list of workflows the bot, the console and the sandbox serve.
Add a workflow by appending it to the list below.
"""

from __future__ import annotations

from statbot.engine.workflow import Workflow, WorkflowRegistry


def all_workflows() -> list[Workflow]:
    from statbot.workflows.admin import ADMIN_WORKFLOWS
    from statbot.workflows.broadcast import BROADCAST
    from statbot.workflows.buy import BALANCE, BUY, REFUND
    from statbot.workflows.describe import DESCRIBE
    from statbot.workflows.explore import EXPLORE
    from statbot.workflows.kb import KB_GET, KB_SEARCH, KB_STATS
    from statbot.workflows.models import MODELS
    from statbot.workflows.predict import PREDICT
    from statbot.workflows.quota import QUOTA
    from statbot.workflows.received import RECEIVED
    from statbot.workflows.stats import STATS
    from statbot.workflows.train import TRAIN
    from statbot.workflows.users import USERS

    return [
        TRAIN,
        PREDICT,
        STATS,
        EXPLORE,
        MODELS,
        DESCRIBE,
        RECEIVED,
        KB_SEARCH,
        KB_GET,
        KB_STATS,
        QUOTA,
        USERS,
        *ADMIN_WORKFLOWS,
        BROADCAST,
        BUY,
        BALANCE,
        REFUND,
    ]


def interpret(text: str) -> tuple[str, dict[str, str]] | None:
    """Free text → (workflow, slots), deterministically (see intents.py)."""
    from statbot.workflows.intents import parse_intent

    intent = parse_intent(text)
    return (intent.workflow, dict(intent.slots)) if intent is not None else None


def default_registry() -> WorkflowRegistry:
    from statbot.workflows.payments import on_payment

    return WorkflowRegistry(
        all_workflows(), interpreter=interpret, on_upload="received", payments=on_payment
    )
