"""Reaching Temporal: the client, and the search attribute statbot's workflows carry (the
visibility queries that find them are the deployment's :class:`~.scope.Scope`)."""

from __future__ import annotations

import logging

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError

from statbot.errors import JobError
from statbot.jobs.temporal.messages import USER_ATTRIBUTE

log = logging.getLogger(__name__)

USER_KEY = SearchAttributeKey.for_int(USER_ATTRIBUTE)


async def connect(address: str, namespace: str) -> Client:
    """A client, or :class:`JobError` naming the address when the server does not answer."""
    try:
        return await Client.connect(address, namespace=namespace)
    except RuntimeError as exc:  # how temporalio reports a failed connection
        raise JobError(
            f"cannot reach Temporal at {address}: {exc}",
            user_message="Background jobs are not available right now.",
        ) from exc


async def ensure_user_attribute(client: Client, namespace: str) -> None:
    """Register the ``StatbotUser`` search attribute (once per namespace; then a no-op)."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        if USER_ATTRIBUTE in listed.custom_attributes:
            return
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                search_attributes={USER_ATTRIBUTE: IndexedValueType.INDEXED_VALUE_TYPE_INT},
                namespace=namespace,
            )
        )
    except RPCError as exc:  # e.g. the bot may not change the namespace: say what to do
        raise JobError(
            f"cannot register the {USER_ATTRIBUTE} search attribute in namespace {namespace}: "
            f"{exc}; register it once with `temporal operator search-attribute create --name "
            f"{USER_ATTRIBUTE} --type Int`",
            user_message="Background jobs are not available right now.",
        ) from exc
    log.info("registered the %s search attribute in namespace %s", USER_ATTRIBUTE, namespace)


def user_attributes(user_id: int) -> TypedSearchAttributes:
    return TypedSearchAttributes([SearchAttributePair(USER_KEY, user_id)])
