"""The accounts: name, plan, time zone and creation time, with the per-account columns the
event synthesis reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.sample_data.catalog import (
    ACCOUNT_NAMES,
    DAY_MS,
    PLAN_PRICE_PER_CREDIT,
    PLANS,
    TIMEZONES,
    iso,
    offset_text,
)


@dataclass
class Accounts:
    rows: list[dict]
    plans: list[str]
    tz_min: np.ndarray
    created_ms: np.ndarray

    def fields(self) -> dict:
        """The Catalog's account fields. An event written in local time uses the account's
        offset, or +01:00 for a UTC account (so that the offset shows)."""
        alt = np.where(self.tz_min == 0, 60, self.tz_min)
        return dict(
            account_rows=self.rows,
            acc_ids=np.array([a["account_id"] for a in self.rows], dtype=object),
            acc_plan=self.plans, acc_tz_min=self.tz_min, acc_alt_off_min=alt.astype(np.int64),
            acc_alt_off_text=np.array([offset_text(int(m)) for m in alt], dtype=object),
            acc_price=np.array([PLAN_PRICE_PER_CREDIT[p] for p in self.plans]),
            acc_created_ms=self.created_ms.astype(np.int64))


def build_accounts(rng: np.random.Generator, n_acc: int, start_ms: int) -> Accounts:
    """n_acc accounts created 60 to 900 days before the window; the first is on enterprise."""
    names = [ACCOUNT_NAMES[i % len(ACCOUNT_NAMES)] for i in range(n_acc)]
    plans = [PLANS[i] for i in rng.choice(3, size=n_acc, p=(0.3, 0.45, 0.25))]
    plans[0] = "enterprise"
    tz_idx = rng.integers(0, len(TIMEZONES), n_acc)
    created_ms = start_ms - rng.integers(60, 900, n_acc) * DAY_MS - rng.integers(
        0, DAY_MS, n_acc)
    tz_min = np.array([TIMEZONES[i][1] for i in tz_idx], dtype=np.int64)
    rows = [
        {"account_id": f"acc_{i + 1:03d}", "name": names[i], "plan": plans[i],
         "timezone": TIMEZONES[tz_idx[i]][0], "monthly_budget_usd": None,
         "created_at": iso(created_ms[i])}
        for i in range(n_acc)
    ]
    return Accounts(rows, plans, tz_min, created_ms)
