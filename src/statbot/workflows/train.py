"""/train: data → (server path: load now or defer with a manual schema) → schema → target →
features → model → confirm → training job with a progress bar → report → model saved.

Training runs as a job (its own subprocess), never in the event loop. Its progress and its end
come back as engine events to the ``training`` state. The job's idempotency key derives from
the event that confirmed it, so a duplicated or replayed update can never train twice.
"""

from __future__ import annotations

from statbot.engine.events import EventKind
from statbot.engine.workflow import State, Workflow
from statbot.workflows.session_data import TrainData
from statbot.workflows.train_choices import (
    enter_confirm,
    enter_features,
    enter_model,
    enter_target,
    on_confirm,
    on_features,
    on_model,
    on_target,
)
from statbot.workflows.train_data import (
    DATA,
    enter_path_mode,
    enter_schema,
    on_path_mode,
    on_schema,
    on_spec,
)
from statbot.workflows.training import (
    enter_failed,
    enter_training,
    on_cancel,
    on_failed,
    on_training,
)

TRAIN = Workflow(
    name="train",
    command="train",
    description="train a model to predict a column",
    start="data",
    on_cancel=on_cancel,
    data=TrainData.from_dict,
    states=(
        *DATA.states(),
        State(
            "path_mode",
            on_enter=enter_path_mode,
            on_event=on_path_mode,
            next=("schema", "spec"),
            help="Load now reads the file and shows its columns; Defer reads it only when "
            "training starts and you describe the columns yourself.",
        ),
        State(
            "spec",
            prompt="Describe the columns like `price:float, city:category, "
            "date:datetime, id:ignore` (types: float, int, bool, category, datetime, text, "
            "ignore).",
            on_event=on_spec,
            next=("target",),
            help="One `name:type` per column, comma-separated.",
        ),
        State(
            "schema",
            on_enter=enter_schema,
            on_event=on_schema,
            next=("target", DATA.header_state),
            help='Check the column types. Type e.g. "treat zip as category" to correct one.',
        ),
        State(
            "target",
            on_enter=enter_target,
            on_event=on_target,
            next=("features",),
            help="The target is the column to predict: a number (regression) or a category "
            "(classification). Type its name or press its button.",
        ),
        State(
            "features",
            on_enter=enter_features,
            on_event=on_features,
            next=("model",),
            help="Tick the columns the model may use, then Done; or type `all`, "
            "`all except a, b`, or a list.",
        ),
        State(
            "model",
            on_enter=enter_model,
            on_event=on_model,
            next=("confirm",),
            help='Pick a model or type its name ("random forest", "logistic"…); *auto* '
            "tries several and keeps the best.",
        ),
        State(
            "confirm",
            on_enter=enter_confirm,
            on_event=on_confirm,
            next=("training", "model"),
            help="Press Train to start; /back changes earlier choices.",
        ),
        State(
            "training",
            on_enter=enter_training,
            on_event=on_training,
            next=("done", "failed"),
            accepts=frozenset(EventKind) - {EventKind.COMMAND},
            help="The model is training in the background. /cancel stops it.",
        ),
        State(
            "failed",
            on_enter=enter_failed,
            on_event=on_failed,
            next=("training", "model"),
            help="The training did not finish. Retry runs it again with the same choices.",
        ),
        State(
            "done",
            prompt="Use /predict to apply the model to new data, /models to see it.",
            final=True,
        ),
    ),
)
