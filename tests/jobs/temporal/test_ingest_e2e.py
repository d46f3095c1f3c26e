"""The ingest workflow end to end (issue 14): ``statbot run`` from a folder of its own, as a
newcomer starts it, with STATBOT_JOBS=temporal and nothing else but the Temporal server, a
task queue of its own and a server data folder; a user stores a server-path file through the
sandbox, and the workflow that stored it is there in Temporal, completed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from tests.support.first_run import first_run
from tests.support.sandbox_user import do, iris_csv
from tests.support.temporal import TemporalDevServer

from statbot.sandbox.client import SandboxClient

pytestmark = pytest.mark.timeout(300)


async def test_a_server_path_is_stored_by_the_ingest_workflow(
    tmp_path: Path, temporal_server: TemporalDevServer, queue: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "iris.csv").write_bytes(iris_csv())
    settings = {
        "STATBOT_JOBS": "temporal",
        "STATBOT_TEMPORAL_ADDRESS": temporal_server.address,
        "STATBOT_TEMPORAL_TASK_QUEUE": queue,
        "STATBOT_LOCAL_PATH_ROOTS": "data",
    }
    with first_run(tmp_path, **settings) as run:
        async with SandboxClient(run.url) as client:
            await do(client, client.send("/stats"))
            chat = await do(client, client.send("./iris.csv"))
            told = "\n".join(m.text or "" for m in chat.bot_messages[-3:])
            assert "iris.csv" in told and "150 rows" in told, told
        temporal = await Client.connect(temporal_server.address)
        query = f"WorkflowType='statbot.ingest' AND TaskQueue='{queue}'"
        found = []
        for _ in range(50):
            found = [w async for w in temporal.list_workflows(query)]
            if found and found[0].status is not WorkflowExecutionStatus.RUNNING:
                break
            await asyncio.sleep(0.2)
        [workflow] = found
        assert workflow.id.startswith(f"{queue}/ingest/")
        assert workflow.status is WorkflowExecutionStatus.COMPLETED
        result = await temporal.get_workflow_handle(workflow.id).result()
        assert result["rows"] == 150
        [stored] = list((tmp_path / "var" / "datasets").rglob("*.parquet"))
        assert stored.stem == result["ref"]["digest"]
        assert run.stop() == 0
