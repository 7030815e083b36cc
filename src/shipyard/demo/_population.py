"""The subscriber base and its ordinary trips abroad."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shipyard.demo import _reference as ref
from shipyard.demo._behaviour import DayFrame

# By segment, in SEGMENTS order (consumer, business, youth, senior).
_TRIPS_PER_60_DAYS = np.array([0.85, 3.0, 0.9, 0.6])
_TRIP_LENGTH_P = np.array([0.25, 0.38, 0.22, 0.2])  # geometric: mean length 1/p days
_VOICE = np.array([1.0, 2.6, 0.6, 0.9])
_SMS = np.array([1.0, 0.7, 1.8, 0.8])
_DATA = np.array([1.0, 1.4, 1.8, 0.4])
_CALL_SECONDS = np.array([100.0, 170.0, 70.0, 150.0])

NO_SWAP = np.iinfo(np.int32).max


@dataclass
class Population:
    """Subscriber attributes as code arrays, indexed by subscriber code."""

    home: np.ndarray
    segment: np.ndarray
    age_band: np.ndarray
    plan: np.ndarray  # index into PLANS
    activation: np.ndarray  # day offset from the start, negative before it
    model: np.ndarray  # device model on file
    swap_day: np.ndarray  # day the subscriber moves to another device, NO_SWAP if never
    new_model: np.ndarray
    activity: np.ndarray  # how much the subscriber uses the phone, around 1
    hopper: np.ndarray  # moves the SIM to a travel router or second phone on some days abroad
    travel_model: np.ndarray
    hop_salt: int
    diaspora: np.ndarray  # calls family in a high-cost country
    premium_user: np.ndarray  # votes, hotlines, satellite numbers: legit premium-rate calls
    heavy_caller: np.ndarray  # business lines that call all day (sales, support)
    travel_start: np.ndarray  # day a travel SIM's first trip starts, -1 for other subscribers


def population(n: int, days: int, rng: np.random.Generator) -> Population:
    """Draws ``n`` subscribers; a few are activated during the period, some just to travel."""
    segment = rng.choice(len(ref.SEGMENTS), size=n, p=ref.SEGMENT_P).astype(np.int8)
    age_cdf = np.cumsum(ref.AGE_P, axis=1)[segment]
    age_band = (rng.random(n)[:, None] >= age_cdf).sum(axis=1).astype(np.int8)
    plan = (rng.random(n) < ref.PREPAID_P[segment]).astype(np.int8)
    # Tenure is long-tailed; 3% join during the period; 2.5% are SIMs bought to travel.
    activation = -np.minimum(rng.exponential(700, n).astype(np.int32) + 30, 4_000)
    joined = rng.random(n) < 0.03
    activation[joined] = rng.integers(0, days, joined.sum())
    travel = ~joined & (rng.random(n) < 0.04)
    travel_start = np.full(n, -1, dtype=np.int32)
    travel_start[travel] = rng.integers(0, days, travel.sum())
    activation[travel] = travel_start[travel] - rng.integers(0, 4, travel.sum())
    plan[travel] = (rng.random(travel.sum()) < 0.7).astype(np.int8)

    model = rng.choice(len(ref.DEVICE_MODELS), size=n, p=ref.DEVICE_P).astype(np.int16)
    swap_day = np.full(n, NO_SWAP, dtype=np.int32)
    swaps = rng.random(n) < 0.05  # people replace phones every two to three years
    swap_day[swaps] = rng.integers(0, days, swaps.sum())
    new_model = rng.choice(len(ref.PHONES), size=n, p=ref.PHONE_P / ref.PHONE_P.sum())
    return Population(
        home=rng.choice(ref.HOME_CODES, size=n, p=ref.HOME_P),
        segment=segment,
        age_band=age_band,
        plan=plan,
        activation=activation.astype(np.int32),
        model=model,
        swap_day=swap_day,
        new_model=new_model.astype(np.int16),
        activity=rng.lognormal(0.0, 0.5, n),
        hopper=rng.random(n) < 0.06,
        travel_model=np.where(
            rng.random(n) < 0.5, rng.choice(ref.GATEWAY_CODES, n), rng.choice(len(ref.PHONES), n)
        ).astype(np.int16),
        hop_salt=int(rng.integers(1, 2**31)),
        diaspora=rng.random(n) < 0.05,
        premium_user=rng.random(n) < 0.015,
        heavy_caller=(segment == 1) & (rng.random(n) < 0.12),
        travel_start=travel_start,
    )


def device_slot(pop: Population, sub: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Which of a subscriber's devices carries the SIM on a day.

    0 is the device on file, 1 the replacement after ``swap_day``, 2 the travel router or
    second phone a hopper uses on about a third of its days (the same all day long).
    """
    mixed = (sub.astype(np.uint64) * np.uint64(1_000_003) + day.astype(np.uint64)) * np.uint64(
        pop.hop_salt
    )
    hop = pop.hopper[sub] & ((mixed >> np.uint64(40)) % np.uint64(3) == 0)
    return np.where(hop, 2, (day >= pop.swap_day[sub]).astype(np.int64))


def pick_operator(
    country: np.ndarray, day: np.ndarray, drift_day: int, u: np.ndarray
) -> np.ndarray:
    """Partner operator codes by inverse CDF of the market shares in force on ``day``."""
    cdf = ref.OPERATOR_CDF[(day >= drift_day).astype(np.intp), country]
    return (ref.OPERATOR_FIRST[country] + (u[:, None] >= cdf).sum(axis=1)).astype(np.int16)


def visited_country(home: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A roaming destination for each home country code, never the home country itself."""
    n = len(home)
    first = rng.choice(ref.VISITED_CODES, size=n, p=ref.VISITED_P)
    second = rng.choice(ref.VISITED_CODES, size=n, p=ref.VISITED_P)
    country = np.where(first == home, second, first)
    fallback = np.where(home == ref.VISITED_CODES[0], ref.VISITED_CODES[1], ref.VISITED_CODES[0])
    return np.where(country == home, fallback, country).astype(np.int16)


def benign_days(pop: Population, days: int, drift_day: int, rng: np.random.Generator) -> DayFrame:
    """Every ordinary roaming subscriber-day: trips of a few days, everyday use abroad."""
    n = len(pop.home)
    propensity = rng.gamma(0.8, 1 / 0.8, n)  # many never travel, a few travel a lot
    n_trips = rng.poisson(_TRIPS_PER_60_DAYS[pop.segment] * propensity * days / 60)
    trip_sub = np.repeat(np.arange(n), n_trips)
    trip_start = rng.integers(-10, days, len(trip_sub))
    travel = np.flatnonzero(pop.travel_start >= 0)  # travel SIMs: one trip, right away
    trip_sub = np.concatenate([trip_sub, travel])
    trip_start = np.concatenate([trip_start, pop.travel_start[travel]])
    length = np.minimum(rng.geometric(_TRIP_LENGTH_P[pop.segment[trip_sub]]), 21)
    trip_country = visited_country(pop.home[trip_sub], rng)
    trip_u = rng.random(len(trip_sub))

    trip = np.repeat(np.arange(len(trip_sub)), length)
    day = trip_start[trip] + np.arange(len(trip)) - np.repeat(np.cumsum(length) - length, length)
    sub = trip_sub[trip]
    keep = (day >= 0) & (day < days) & (day >= pop.activation[sub])
    # One row per subscriber-day; overlapping trips keep the earlier-drawn one.
    _, first = np.unique(sub[keep].astype(np.int64) * days + day[keep], return_index=True)
    trip, day, sub = trip[keep][first], day[keep][first], sub[keep][first]

    country = trip_country[trip]
    switch = rng.random(len(trip)) < 0.1  # mostly stay on one network for the whole trip
    u = np.where(switch, rng.random(len(trip)), trip_u[trip])
    operator = pick_operator(country, day, drift_day, u)

    seg = pop.segment[sub]
    a = pop.activity[sub] * rng.lognormal(0.0, 0.35, len(sub))
    heavy = pop.heavy_caller[sub]
    spike = rng.random(len(sub)) < 0.05  # streaming, a video call, a backup: legit spikes
    long_haul = np.isin(country, [ref.COUNTRY_INDEX[c] for c in ref.LONG_HAUL])
    return DayFrame.build(
        sub=sub,
        day=day,
        country=country,
        operator=operator,
        fraud=0,
        n_vo=2.6 * _VOICE[seg] * a * np.where(heavy, 4.0, 1.0),
        n_vi=2.0 * np.sqrt(_VOICE[seg]) * a,
        n_sms=1.4 * _SMS[seg] * a,
        n_data=9.0 * _DATA[seg] * a * np.where(spike, 2.5, 1.0),
        vo_mu=np.log(_CALL_SECONDS[seg]),
        vo_sigma=np.where(heavy, 0.8, 1.0),
        vi_mu=np.log(_CALL_SECONDS[seg] * 0.9),
        p_night=0.03 + 0.12 * long_haul + 0.04 * (seg == 2),
        p_home=0.55,
        p_visited=0.22,
        p_premium=0.002 + 0.15 * pop.premium_user[sub],
        p_high_risk=0.006 + 0.10 * pop.diaspora[sub],
        p_spray=0.01 + 0.25 * heavy,
        mb_mu=np.log(12.0)
        + np.log(1.6) * (day >= drift_day)  # video-heavy apps and 5G partners late on
        + np.where(spike, np.log(rng.uniform(3, 10, len(sub))), 0.0),
        mb_sigma=1.1,
    )
