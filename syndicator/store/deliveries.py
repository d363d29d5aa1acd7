"""The outbox, as one import: claiming due deliveries under a lease, the `sending` mark, outcomes, leases that
expire. The code lives by concern; this module names the whole API so callers need not know where:

    delivery_rows   the Delivery value, writing one row, next_due and parent_receipt
    claims          claim_due, begin_send / begin_wave (the `sending` mark), renew_lease, release, expire_leases
    outcomes        record_sent(_many), record_failure, mark_unknown, apply_to_parent
    target_state    a target's pauses and rate headers, its history read under the target's lock

State machine (see DeliveryState): pending|retry → sending → sent | retry | failed | unknown. `sending` is
committed before the platform call; a `sending` row whose lease expired means the process died during the call,
so it becomes `unknown` (or `retry` where the target allows automatic resend) and is never silently re-sent.
"""

from __future__ import annotations

from syndicator.store.claims import begin_send, begin_wave, claim_due, expire_leases, is_short, release, renew_lease
from syndicator.store.delivery_rows import (
    COUNTED_STATES,
    DUE_STATES,
    Delivery,
    insert_delivery,
    next_due,
    parent_receipt,
    to_delivery,
)
from syndicator.store.outcomes import apply_to_parent, mark_unknown, record_failure, record_sent, record_sent_many
from syndicator.store.target_state import clear_auth_pause, ensure_target_row, pause_target, save_rate

__all__ = [
    "COUNTED_STATES",
    "DUE_STATES",
    "Delivery",
    "apply_to_parent",
    "begin_send",
    "begin_wave",
    "claim_due",
    "clear_auth_pause",
    "ensure_target_row",
    "expire_leases",
    "insert_delivery",
    "is_short",
    "mark_unknown",
    "next_due",
    "parent_receipt",
    "pause_target",
    "record_failure",
    "record_sent",
    "record_sent_many",
    "release",
    "renew_lease",
    "save_rate",
    "to_delivery",
]
