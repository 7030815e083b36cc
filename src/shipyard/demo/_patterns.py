"""Fraud patterns: who commits them, on which days, and what the traffic looks like.

Each pattern is sized as a share of ordinary roaming subscriber-days and draws its intensity
per incident from a wide distribution, so some incidents are loud and some hide in the noise
next to their benign look-alikes (travel SIMs, heavy business callers, new phones, streaming).
"""

from __future__ import annotations

import numpy as np

from shipyard.demo import _reference as ref
from shipyard.demo._behaviour import DayFrame
from shipyard.demo._population import NO_SWAP, Population, pick_operator, visited_country

REVENUE_SHARE, SIMBOX, ACCOUNT_TAKEOVER, SUBSCRIPTION, WANGIRI = range(1, 6)

# Share of ordinary roaming subscriber-days each pattern adds or turns into fraud.
_SHARE = {REVENUE_SHARE: 0.003, SIMBOX: 0.0035, ACCOUNT_TAKEOVER: 0.0045, SUBSCRIPTION: 0.003}
_WANGIRI_SHARE = 0.008  # of the drifted period's roaming days


def inject(
    pop: Population, benign: DayFrame, days: int, drift_day: int, rng: np.random.Generator
) -> tuple[DayFrame, list[DayFrame]]:
    """Adds every fraud pattern; returns the benign days that remain and the fraud days.

    SIMs bought for fraud (revenue share, SIM-box, subscription) have no ordinary trips: their
    benign days are dropped and their profile is rewritten. Account takeover and Wangiri hit
    ordinary subscribers on days they roam anyway and add traffic to those days.
    """
    base = len(benign)
    mean_length = {REVENUE_SHARE: 2.0, SIMBOX: 5.3, SUBSCRIPTION: 4.8}
    counts = {k: max(1, round(_SHARE[k] * base / m)) for k, m in mean_length.items()}
    order = rng.permutation(np.flatnonzero(pop.travel_start < 0))
    bounds = np.cumsum([0, *counts.values()])
    dedicated = {k: order[bounds[i] : bounds[i + 1]] for i, k in enumerate(counts)}

    frames = [
        _revenue_share(pop, dedicated[REVENUE_SHARE], days, drift_day, rng),
        _simbox(pop, dedicated[SIMBOX], days, drift_day, rng),
        _subscription(pop, dedicated[SUBSCRIPTION], days, drift_day, rng),
    ]
    benign = benign.take(np.flatnonzero(~np.isin(benign.sub, order[: bounds[-1]])))

    n_takeover = max(1, round(_SHARE[ACCOUNT_TAKEOVER] * base / 2.0))
    takeover, victims = _account_takeover(pop, benign, n_takeover, rng)
    late = benign.take(np.flatnonzero((benign.day >= drift_day) & ~np.isin(benign.sub, victims)))
    n_wangiri = max(1, round(_WANGIRI_SHARE * len(late)))
    frames += [takeover, _wangiri(late, n_wangiri, rng)]
    return benign, frames


def _incidents(
    subs: np.ndarray, length: np.ndarray, days: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive fraud days: incident index, subscriber and day per day, and the starts."""
    start = rng.integers(0, days - 1, len(subs))
    incident = np.repeat(np.arange(len(subs)), length)
    day = start[incident] + np.arange(len(incident)) - np.repeat(np.cumsum(length) - length, length)
    keep = day < days
    return incident[keep], subs[incident[keep]], day[keep], start


def _dedicated_days(
    pop: Population, subs: np.ndarray, length: np.ndarray, days: int, drift_day: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:  # fmt: skip
    """Incident days of SIMs used only for fraud; their profile gets no device change."""
    incident, sub, day, start = _incidents(subs, length, days, rng)
    country = visited_country(pop.home[subs], rng)[incident]
    operator = pick_operator(country, day, drift_day, rng.random(len(subs))[incident])
    pop.swap_day[subs] = NO_SWAP
    pop.hopper[subs] = False
    pop.heavy_caller[subs] = False
    return incident, {"sub": sub, "day": day, "country": country, "operator": operator,
                      "start": start}  # fmt: skip


def _revenue_share(
    pop: Population, subs: np.ndarray, days: int, drift_day: int, rng: np.random.Generator
) -> DayFrame:
    """Bursts of long night calls to premium numbers from freshly activated prepaid SIMs."""
    k = len(subs)
    inc, where = _dedicated_days(pop, subs, rng.integers(1, 4, k), days, drift_day, rng)
    pop.plan[subs] = (rng.random(k) < 0.9).astype(np.int8)
    # Most are fresh SIMs; some were bought aged on the black market to look established.
    aged = rng.random(k) < 0.4
    pop.activation[subs] = where["start"] - np.where(
        aged, rng.integers(30, 400, k), rng.integers(0, 6, k)
    )
    g = rng.lognormal(-0.5, 1.0, k)[inc]
    frame = DayFrame.build(
        **{key: v for key, v in where.items() if key != "start"},
        fraud=REVENUE_SHARE,
        n_vo=12.0 * g,
        n_vi=0.6,
        n_sms=0.4,
        n_data=2.0,
        vo_mu=np.log(700.0),
        vo_sigma=0.9,
        vi_mu=np.log(60.0),
        p_night=rng.uniform(0.15, 0.8, k)[inc],
        p_home=0.1,
        p_visited=0.1,
        p_premium=rng.uniform(0.1, 0.8, k)[inc],
        p_high_risk=0.15,
        p_spray=0.0,
        mb_mu=np.log(4.0),
        mb_sigma=1.0,
    )
    return _quiet_days(frame, rng)


def _simbox(
    pop: Population, subs: np.ndarray, days: int, drift_day: int, rng: np.random.Generator
) -> DayFrame:
    """Many short outgoing calls sprayed over many countries, around the clock, no data."""
    k = len(subs)
    length = np.minimum(1 + rng.geometric(0.25, k), 12)
    inc, where = _dedicated_days(pop, subs, length, days, drift_day, rng)
    pop.plan[subs] = (rng.random(k) < 0.8).astype(np.int8)
    pop.activation[subs] = where["start"] - rng.integers(0, 400, k)
    gateway = rng.random(k) < 0.6
    pop.model[subs[gateway]] = rng.choice(ref.GATEWAY_CODES, size=gateway.sum())
    g = rng.lognormal(-0.7, 0.9, k)[inc]
    frame = DayFrame.build(
        **{key: v for key, v in where.items() if key != "start"},
        fraud=SIMBOX,
        n_vo=40.0 * g,
        n_vi=0.5,
        n_sms=0.5,
        n_data=0.3,
        vo_mu=np.log(rng.uniform(35.0, 110.0, k))[inc],  # some boxes mimic human calls
        vo_sigma=0.6,
        vi_mu=np.log(60.0),
        p_night=0.2,
        p_home=0.05,
        p_visited=0.3,
        p_premium=0.0,
        p_high_risk=0.02,
        p_spray=rng.uniform(0.1, 0.6, k)[inc],
        mb_mu=np.log(2.0),
        mb_sigma=1.0,
    )
    return _quiet_days(frame, rng)


def _subscription(
    pop: Population, subs: np.ndarray, days: int, drift_day: int, rng: np.random.Generator
) -> DayFrame:
    """A postpaid line opened on a stolen identity and roamed on heavily at once."""
    k = len(subs)
    length = np.minimum(1 + rng.geometric(0.3, k), 10)
    inc, where = _dedicated_days(pop, subs, length, days, drift_day, rng)
    pop.plan[subs] = (rng.random(k) < 0.15).astype(np.int8)
    pop.activation[subs] = where["start"] - rng.integers(0, 10, k)
    pop.segment[subs] = np.where(rng.random(k) < 0.6, 0, 1)
    g = rng.lognormal(-0.4, 0.8, k)[inc]
    frame = DayFrame.build(
        **{key: v for key, v in where.items() if key != "start"},
        fraud=SUBSCRIPTION,
        n_vo=14.0 * g,
        n_vi=1.5,
        n_sms=3.0,
        n_data=16.0 * g,
        vo_mu=np.log(320.0),
        vo_sigma=1.0,
        vi_mu=np.log(90.0),
        p_night=0.1,
        p_home=0.3,
        p_visited=0.15,
        p_premium=0.03,
        p_high_risk=rng.uniform(0.05, 0.3, k)[inc],
        p_spray=0.1,
        mb_mu=np.log(35.0),
        mb_sigma=1.1,
    )
    return _quiet_days(frame, rng)


def _quiet_days(frame: DayFrame, rng: np.random.Generator, share: float = 0.55) -> DayFrame:
    """Turns a share of a fraud SIM's days into ordinary-looking use (tests, cover traffic).

    The whole line is fraudulent, so those days stay labelled: they are the hard positives.
    """
    quiet = rng.random(len(frame)) < share
    ordinary = {
        "n_vo": 3.0, "n_vi": 1.5, "n_sms": 1.5, "n_data": 6.0, "vo_mu": np.log(110.0),
        "vo_sigma": 1.0, "p_night": 0.05, "p_home": 0.5, "p_visited": 0.25, "p_premium": 0.01,
        "p_high_risk": 0.02, "p_spray": 0.02, "mb_mu": np.log(12.0), "mb_sigma": 1.1,
    }  # fmt: skip
    for name, value in ordinary.items():
        getattr(frame, name)[quiet] = value
    return frame


def _account_takeover(
    pop: Population, benign: DayFrame, k: int, rng: np.random.Generator
) -> tuple[DayFrame, np.ndarray]:
    """A SIM moved to the fraudster's device, then a data spike (and at times premium calls).

    Returns the added traffic and the victims' subscriber codes.
    """
    shuffled = rng.permutation(len(benign))
    _, first = np.unique(benign.sub[shuffled], return_index=True)
    rows = np.sort(shuffled[first[rng.permutation(len(first))[:k]]])
    # The fraudster keeps using the line, more quietly, on the victim's next days abroad
    # (within three days) until the victim notices: hard positives on an established account.
    parts_inc, parts_rows = [np.arange(len(rows))], [rows]
    going = np.ones(len(rows), dtype=bool)
    for step in (1, 2, 3):
        nxt = np.minimum(rows + step, len(benign) - 1)
        going &= (
            (benign.sub[nxt] == benign.sub[rows])
            & (benign.day[nxt] <= benign.day[rows] + 3)
            & (rng.random(len(rows)) < 0.6)
        )
        parts_inc.append(np.flatnonzero(going))
        parts_rows.append(nxt[going])
    subs = benign.sub[rows]
    pop.swap_day[subs] = benign.day[rows]
    pop.hopper[subs] = False
    pop.new_model[subs] = rng.choice(len(ref.PHONES), size=len(subs))
    later = np.concatenate([np.zeros(len(rows)), *(np.ones(len(i)) for i in parts_inc[1:])]) > 0
    inc, days_rows = np.concatenate(parts_inc), np.concatenate(parts_rows)
    g = rng.lognormal(-1.0, 1.2, len(rows))[inc] * np.where(later, 0.4, 1.0)
    calls = (rng.random(len(rows)) < 0.4)[inc]
    day = benign.take(days_rows)
    return DayFrame.build(
        sub=day.sub,
        day=day.day,
        country=day.country,
        operator=day.operator,
        fraud=ACCOUNT_TAKEOVER,
        n_vo=np.where(calls, 4.0 * g, 0.3),
        n_vi=0.0,
        n_sms=0.5,
        n_data=10.0 * g,
        vo_mu=np.log(400.0),
        vo_sigma=0.9,
        vi_mu=np.log(60.0),
        p_night=0.25,
        p_home=0.2,
        p_visited=0.1,
        p_premium=0.4,
        p_high_risk=0.2,
        p_spray=0.0,
        mb_mu=np.log(80.0),
        mb_sigma=1.0,
    ), subs


def _wangiri(late: DayFrame, k: int, rng: np.random.Generator) -> DayFrame:
    """The drift's new variant: one-ring calls, then callbacks to unlisted high-cost numbers.

    The numbers are in ranges not yet on the premium list, so the calls are not flagged as
    premium, they come in daytime, and the victims are ordinary long-standing subscribers:
    nothing the earlier patterns taught a model to look for, apart from the cost.
    """
    _, first = np.unique(late.sub, return_index=True)
    day = late.take(np.sort(rng.permutation(first)[:k]))
    g = rng.lognormal(0.0, 0.5, len(day))
    return DayFrame.build(
        sub=day.sub,
        day=day.day,
        country=day.country,
        operator=day.operator,
        fraud=WANGIRI,
        n_vo=1.0 + 2.0 * g,
        n_vi=4.0 * g,
        n_sms=0.0,
        n_data=0.0,
        vo_mu=np.log(150.0),
        vo_sigma=0.7,
        vi_mu=np.log(3.0),
        p_night=0.05,
        p_home=0.0,
        p_visited=0.0,
        p_premium=0.0,
        p_high_risk=1.0,
        p_spray=0.0,
        mb_mu=0.0,
        mb_sigma=0.0,
    )
