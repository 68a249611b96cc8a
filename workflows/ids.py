"""Order ids and the workflow ids derived from them."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PREFIX = "order-"


def new_order_id() -> str:
    """A new, unguessable order id such as ORD-7K3M9QX2VD4T."""
    return "ORD-" + "".join(secrets.choice(_ALPHABET) for _ in range(12))


def workflow_id_for(order_id: str) -> str:
    """The id of the workflow that runs an order."""
    return _PREFIX + order_id


def order_id_from(workflow_id: str) -> str:
    """The order id of a workflow id made by `workflow_id_for`."""
    if not workflow_id.startswith(_PREFIX):
        raise ValueError(f"not an order workflow id: {workflow_id!r}")
    return workflow_id[len(_PREFIX) :]
