"""Reference data of the roaming demo: countries, partner operators, devices, tariffs.

Everything here is a small constant table; the generator indexes into it with integer codes
and only turns codes into strings when it writes Arrow columns.
"""

from __future__ import annotations

import numpy as np

# Home countries of the subscriber base (a multinational operator group), skewed.
HOME_SHARE: dict[str, float] = {
    "FR": 0.34, "ES": 0.12, "DE": 0.09, "IT": 0.08, "GB": 0.07, "BE": 0.05, "PT": 0.04,
    "NL": 0.04, "CH": 0.03, "PL": 0.03, "RO": 0.03, "MA": 0.03, "TN": 0.02, "SN": 0.02,
    "US": 0.01,
}  # fmt: skip

# Visited countries: popularity as a roaming destination and the partner operators there
# (market share before the drift, then after it). A share of 0 before the drift is a partner
# that only appears in the drifted period.
PARTNERS: dict[str, tuple[float, dict[str, tuple[float, float]]]] = {
    "ES": (0.14, {"Movistar": (4, 3), "Vodafone": (3, 2), "Orange": (3, 2), "Digi": (0, 3)}),
    "FR": (0.10, {"Orange": (4, 4), "SFR": (3, 3), "Bouygues": (3, 3)}),
    "IT": (0.10, {"TIM": (4, 3), "Vodafone": (3, 2), "WindTre": (3, 2), "Iliad": (0, 3)}),
    "DE": (0.07, {"Telekom": (4, 4), "Vodafone": (4, 4), "O2": (2, 2)}),
    "GB": (0.07, {"EE": (4, 4), "Vodafone": (3, 3), "O2": (3, 3), "Three": (2, 2)}),
    "PT": (0.06, {"MEO": (4, 4), "NOS": (3, 3), "Vodafone": (3, 3)}),
    "US": (0.06, {"ATT": (4, 4), "TMobile": (4, 4), "Verizon": (2, 2)}),
    "MA": (0.05, {"MarocTelecom": (5, 5), "Orange": (3, 3), "Inwi": (2, 2)}),
    "GR": (0.04, {"Cosmote": (5, 5), "Vodafone": (3, 3), "Nova": (2, 2)}),
    "TR": (0.04, {"Turkcell": (5, 5), "Vodafone": (3, 3), "TurkTelekom": (2, 2)}),
    "CH": (0.04, {"Swisscom": (5, 5), "Sunrise": (3, 3), "Salt": (2, 2)}),
    "HR": (0.03, {"HT": (5, 5), "A1": (3, 3), "Telemach": (2, 2)}),
    "BE": (0.03, {"Proximus": (4, 4), "Orange": (4, 4), "Base": (2, 2)}),
    "NL": (0.03, {"KPN": (4, 4), "Vodafone": (3, 3), "Odido": (3, 3)}),
    "TH": (0.03, {"AIS": (5, 5), "TrueMove": (4, 4), "dtac": (1, 1)}),
    "AE": (0.03, {"Etisalat": (6, 6), "du": (4, 4)}),
    "JP": (0.02, {"Docomo": (5, 5), "SoftBank": (3, 3), "KDDI": (2, 2)}),
    "CA": (0.02, {"Rogers": (4, 4), "Bell": (3, 3), "Telus": (3, 3)}),
    "TN": (0.02, {"TunisieTelecom": (5, 5), "Ooredoo": (3, 3), "Orange": (2, 2)}),
    "PL": (0.02, {"Orange": (3, 3), "Play": (3, 3), "Plus": (2, 2), "TMobile": (2, 2)}),
    "RO": (0.02, {"Orange": (4, 4), "Vodafone": (3, 3), "Digi": (3, 3)}),
    "SN": (0.015, {"Orange": (6, 6), "Free": (3, 3), "Expresso": (1, 1)}),
    "BR": (0.015, {"Vivo": (4, 4), "Claro": (4, 4), "TIM": (2, 2)}),
    "MX": (0.015, {"Telcel": (7, 7), "ATT": (3, 3)}),
}
# Far from the home countries: calls home land at night more often.
LONG_HAUL = frozenset({"US", "CA", "MX", "BR", "TH", "JP", "AE"})

# High-cost destinations abused by revenue-share fraud (premium and satellite ranges there).
HIGH_RISK = ("CU", "SO", "GN", "SL", "LR", "GM", "KM", "TV", "NR", "PG", "SB", "CK")
# Ordinary international destinations that are neither home nor visited countries.
OTHER_DESTINATIONS = ("IN", "CN", "PH", "NG", "DZ", "VN", "PK", "EG", "CO", "AR", "AU", "UA")

# One index space for every country the data mentions.
COUNTRIES: tuple[str, ...] = tuple(
    dict.fromkeys([*HOME_SHARE, *PARTNERS, *HIGH_RISK, *OTHER_DESTINATIONS])
)
COUNTRY_INDEX = {c: i for i, c in enumerate(COUNTRIES)}

HOME_CODES = np.array([COUNTRY_INDEX[c] for c in HOME_SHARE], dtype=np.int16)
HOME_P = np.array(list(HOME_SHARE.values()))
HOME_P /= HOME_P.sum()

VISITED_CODES = np.array([COUNTRY_INDEX[c] for c in PARTNERS], dtype=np.int16)
VISITED_P = np.array([share for share, _ in PARTNERS.values()])
VISITED_P /= VISITED_P.sum()

HIGH_RISK_CODES = np.array([COUNTRY_INDEX[c] for c in HIGH_RISK], dtype=np.int16)
# Ordinary calls abroad mostly go to a few places; SIM-boxes spray over all of them.
POPULAR_CODES = np.concatenate([VISITED_CODES, [COUNTRY_INDEX[c] for c in OTHER_DESTINATIONS]])
POPULAR_P = np.concatenate([VISITED_P, np.full(len(OTHER_DESTINATIONS), 0.03)])
POPULAR_P /= POPULAR_P.sum()
ALL_DEST_CODES = np.arange(len(COUNTRIES), dtype=np.int16)

# Operators: "ES-Movistar" style names, the country each belongs to, and market shares.
OPERATORS: tuple[str, ...] = tuple(f"{c}-{op}" for c, (_, ops) in PARTNERS.items() for op in ops)
OPERATOR_COUNTRY = np.array(
    [COUNTRY_INDEX[c] for c, (_, ops) in PARTNERS.items() for _ in ops], dtype=np.int16
)
DRIFT_OPERATORS = tuple(
    f"{c}-{op}" for c, (_, ops) in PARTNERS.items() for op, (pre, _) in ops.items() if pre == 0
)
_MAX_OPS = max(len(ops) for _, ops in PARTNERS.values())
# Cumulative share per country and period, padded with 1.0, for inverse-CDF sampling:
# OPERATOR_CDF[period, country_code, slot]; OPERATOR_FIRST[country_code] is slot 0's code.
OPERATOR_CDF = np.ones((2, len(COUNTRIES), _MAX_OPS))
OPERATOR_FIRST = np.zeros(len(COUNTRIES), dtype=np.int16)
_first = 0
for _c, (_, _ops) in PARTNERS.items():
    _shares = np.array(list(_ops.values()), dtype=float).T  # (period, slot)
    _cdf = np.cumsum(_shares, 1) / _shares.sum(1)[:, None]
    OPERATOR_CDF[:, COUNTRY_INDEX[_c], : len(_ops)] = _cdf
    OPERATOR_FIRST[COUNTRY_INDEX[_c]] = _first
    _first += len(_ops)
# Wholesale tariff of each partner relative to the average.
OPERATOR_TARIFF = (
    np.where(np.isin(OPERATORS, DRIFT_OPERATORS), 0.8, 1.0)
    * np.linspace(0.9, 1.1, len(OPERATORS))[np.random.default_rng(7).permutation(len(OPERATORS))]
)

PHONES = (
    "iPhone 15", "iPhone 14", "iPhone 13", "iPhone 16", "Galaxy A54", "iPhone 15 Pro",
    "Galaxy S24", "Galaxy A34", "Redmi Note 13", "iPhone 16 Pro", "Galaxy S23", "Galaxy A15",
    "iPhone SE", "Pixel 8", "Redmi Note 12", "Galaxy A14", "Galaxy S24 Ultra", "Pixel 8a",
    "Xiaomi 13T", "Pixel 9", "Oppo A78", "Moto g54", "OnePlus 12", "Galaxy Z Flip5",
    "Pixel 7", "Nokia G22", "Honor Magic5", "OnePlus 11", "Fairphone 5", "Huawei P30",
)  # fmt: skip
# GSM gateways and modules: what a SIM-box shows, and what a few routers and cars show.
GATEWAYS = ("Quectel EC25", "SIMCom SIM7600", "Huawei E3372")
DEVICE_MODELS = PHONES + GATEWAYS
PHONE_P = 1.0 / np.arange(1, len(PHONES) + 1) ** 0.8
DEVICE_P = np.concatenate([PHONE_P / PHONE_P.sum() * 0.995, np.full(len(GATEWAYS), 0.005 / 3)])
GATEWAY_CODES = np.arange(len(PHONES), len(DEVICE_MODELS))

SEGMENTS = ("consumer", "business", "youth", "senior")
SEGMENT_P = np.array([0.62, 0.14, 0.14, 0.10])
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
# P(age band | segment), rows in SEGMENTS order.
AGE_P = np.array([
    [0.08, 0.24, 0.26, 0.22, 0.15, 0.05],
    [0.03, 0.25, 0.32, 0.26, 0.13, 0.01],
    [0.85, 0.15, 0.00, 0.00, 0.00, 0.00],
    [0.00, 0.00, 0.00, 0.00, 0.30, 0.70],
])  # fmt: skip
PLANS = ("postpaid", "prepaid")
PREPAID_P = np.array([0.30, 0.05, 0.55, 0.25])  # by segment

RECORD_TYPES = ("voice_out", "voice_in", "sms", "data")
FRAUD_TYPES = ("", "revenue_share", "simbox", "account_takeover", "subscription", "wangiri")

# Tariffs, in currency units.
RATE_HOME_MIN = 0.25  # call to the home country, per minute
RATE_LOCAL_MIN = 0.20  # call inside the visited country
RATE_INTL_MIN = 0.90  # call to any other country
RATE_HIGH_RISK_MIN = np.linspace(2.4, 4.8, len(HIGH_RISK))
PREMIUM_SURCHARGE_MIN = 2.0
RATE_IN_MIN = 0.08
RATE_SMS = 0.30
RATE_MB = 0.008
RATE_PER_MIN = np.full(len(COUNTRIES), RATE_INTL_MIN)
RATE_PER_MIN[HIGH_RISK_CODES] = RATE_HIGH_RISK_MIN
