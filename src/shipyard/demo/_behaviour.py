"""Roaming behaviour: from subscriber-days with rates to individual usage records.

A subscriber-day is described by a :class:`DayFrame` row: where the subscriber is, on which
partner network, and the parameters of what they do that day (how many calls, how long, at
what hour, to which destinations, how much data). Benign days and every fraud pattern are
DayFrames with different parameters; :func:`records` turns any of them into usage records in
one vectorized pass.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from shipyard.demo import _reference as ref

# Daytime hours carry most traffic; a "night" event falls in 00:00-05:59.
_DAY_HOURS = np.arange(6, 24)
_DAY_HOUR_P = np.array([1, 3, 5, 6, 6, 6, 7, 6, 6, 6, 6, 7, 8, 8, 7, 6, 4, 2], dtype=float)
_DAY_HOUR_P /= _DAY_HOUR_P.sum()


@dataclass
class DayFrame:
    """Subscriber-days and the behaviour parameters of each (one array element per day).

    Destination probabilities (``p_*``) apply to outgoing calls and SMS; what they leave over
    goes to popular international destinations.
    """

    sub: np.ndarray  # subscriber code
    day: np.ndarray  # day offset from the start
    country: np.ndarray  # visited country code
    operator: np.ndarray  # partner operator code
    fraud: np.ndarray  # index into FRAUD_TYPES; 0 is benign
    n_vo: np.ndarray  # expected outgoing calls
    n_vi: np.ndarray  # expected incoming calls
    n_sms: np.ndarray  # expected SMS
    n_data: np.ndarray  # expected data sessions
    vo_mu: np.ndarray  # log-seconds, outgoing call duration
    vo_sigma: np.ndarray
    vi_mu: np.ndarray  # log-seconds, incoming call duration
    p_night: np.ndarray
    p_home: np.ndarray
    p_visited: np.ndarray
    p_premium: np.ndarray  # premium-rate numbers in high-risk countries (flagged)
    p_high_risk: np.ndarray  # ordinary or unlisted numbers in high-risk countries
    p_spray: np.ndarray  # uniform over every country (SIM-box routing)
    mb_mu: np.ndarray  # log-MB per data session
    mb_sigma: np.ndarray

    @classmethod
    def build(cls, **columns: object) -> DayFrame:
        """A frame from arrays and scalars; scalars are broadcast to the length of ``sub``."""
        n = len(np.asarray(columns["sub"]))
        return cls(**{k: np.broadcast_to(np.asarray(v), (n,)).copy() for k, v in columns.items()})

    def __len__(self) -> int:
        return len(self.sub)

    def take(self, index: np.ndarray) -> DayFrame:
        return DayFrame(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def concat(frames: list[DayFrame]) -> DayFrame:
        names = [f.name for f in fields(DayFrame)]
        return DayFrame(**{k: np.concatenate([getattr(x, k) for x in frames]) for k in names})


@dataclass
class Records:
    """Usage records as code arrays; -1 marks a missing value."""

    sub: np.ndarray
    seconds: np.ndarray  # from the start of the period
    country: np.ndarray
    operator: np.ndarray
    record_type: np.ndarray
    duration_s: np.ndarray
    bytes: np.ndarray
    destination: np.ndarray
    premium: np.ndarray
    charge: np.ndarray


def records(frame: DayFrame, home: np.ndarray, rng: np.random.Generator) -> Records:
    """Draws the usage records of every subscriber-day of ``frame``.

    Args:
        frame: The subscriber-days and their behaviour parameters.
        home: Home country code of every subscriber.
        rng: The generator to draw from.
    """
    lam = np.stack([frame.n_vo, frame.n_vi, frame.n_sms, frame.n_data], axis=1)
    counts = rng.poisson(np.maximum(lam, 0.0)).ravel()
    row = np.repeat(np.repeat(np.arange(len(frame)), 4), counts)
    rtype = np.repeat(np.tile(np.arange(4, dtype=np.int8), len(frame)), counts)
    n = len(row)
    vo, vi, sms, data = (rtype == k for k in range(4))

    night = rng.random(n) < frame.p_night[row]
    hour = np.where(night, rng.integers(0, 6, n), rng.choice(_DAY_HOURS, size=n, p=_DAY_HOUR_P))
    seconds = frame.day[row].astype(np.int64) * 86_400 + hour * 3_600 + rng.integers(0, 3_600, n)

    mu = np.where(vo, frame.vo_mu[row], frame.vi_mu[row])
    sigma = np.where(vo, frame.vo_sigma[row], 0.9)
    duration = np.clip(np.rint(np.exp(mu + sigma * rng.standard_normal(n))), 1, 14_400)
    duration = np.where(vo | vi, duration, -1).astype(np.int32)
    mb = np.exp(frame.mb_mu[row] + frame.mb_sigma[row] * rng.standard_normal(n))
    nbytes = np.where(data, np.rint(mb * 1e6), -1).astype(np.int64)

    destination, premium = _destinations(frame, row, home, rng)
    outgoing = vo | sms
    destination = np.where(outgoing, destination, -1).astype(np.int16)
    premium &= outgoing

    sub = frame.sub[row]
    visited = frame.country[row]
    per_min = np.select(
        [destination == home[sub], destination == visited],
        [ref.RATE_HOME_MIN, ref.RATE_LOCAL_MIN],
        ref.RATE_PER_MIN[np.maximum(destination, 0)],
    ) + np.where(premium, ref.PREMIUM_SURCHARGE_MIN, 0.0)
    minutes = np.ceil(np.maximum(duration, 0) / 60.0)
    charge = (
        np.select(
            [vo, vi, sms],
            [minutes * per_min, minutes * ref.RATE_IN_MIN, ref.RATE_SMS * (1 + (per_min > 1))],
            mb * ref.RATE_MB,
        )
        * ref.OPERATOR_TARIFF[frame.operator[row]]
    )
    return Records(
        sub=sub,
        seconds=seconds,
        country=visited,
        operator=frame.operator[row],
        record_type=rtype,
        duration_s=duration,
        bytes=nbytes,
        destination=destination,
        premium=premium,
        charge=np.round(charge, 2),
    )


def _destinations(
    frame: DayFrame, row: np.ndarray, home: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Destination country code and premium flag of every record (used for outgoing ones)."""
    n = len(row)
    cdf = np.cumsum(
        np.stack(
            [frame.p_home, frame.p_visited, frame.p_premium, frame.p_high_risk, frame.p_spray]
        )[:, row],
        axis=0,
    )
    kind = (rng.random(n) >= cdf).sum(axis=0)  # 0 home .. 4 spray, 5 popular
    high_risk = ref.HIGH_RISK_CODES[rng.integers(0, len(ref.HIGH_RISK_CODES), n)]
    options = np.stack(
        [
            home[frame.sub[row]],
            frame.country[row],
            high_risk,
            high_risk,
            ref.ALL_DEST_CODES[rng.integers(0, len(ref.ALL_DEST_CODES), n)],
            rng.choice(ref.POPULAR_CODES, size=n, p=ref.POPULAR_P),
        ]
    )
    return options[kind, np.arange(n)], kind == 2
