"""Lambda's tariff by date: price sheets as data, and the billing rules that changed with time.

A price sheet is the list of unit prices in force on a date (US East, N. Virginia, in USD):

* a price per request ($0.20 per million since launch);
* a price per GB-second of *duration* (billed time x configured memory), per architecture. Since
  the billing cycle that began on 1 August 2022 it falls in volume *tiers* of the month's total
  on-demand GB-s of one architecture (10 % and 20 % off above 6 and 15 billion GB-s on x86);
* for provisioned concurrency (since December 2019): a price per GB-s *configured*, whether used
  or not, and a lower duration price for the time spent running on it;
* a price per GB-s of ephemeral storage (/tmp) beyond the free 512 MB (configurable since March
  2022);
* the monthly free tier: 1,000,000 requests and 400,000 GB-s, not for functions with provisioned
  concurrency.

Two rules changed on dates too: the billing granularity (:func:`granularity_ms_for`: durations were
rounded up to 100 ms until November 2020, to 1 ms since the December 2020 billing cycle) and
whether the cold start (INIT) is billed (:func:`init_billed`: always for container images, custom
runtimes and provisioned concurrency; for on-demand ZIP functions on managed runtimes only from
1 August 2025).

Features that did not exist on a date have no price on that date's sheet (``None``): asking a 2018
sheet for an Arm price raises an error instead of inventing one. Sheets are frozen dataclasses; make
a variant for a lesson with :func:`dataclasses.replace`, which validates the new values.

simlab names its eras by dates: ``"2018"`` is 1 June 2018, ``"2020"`` is 1 June 2020 and ``"today"``
is 27 November 2026. :func:`price_sheet_for` accepts an era name, an ISO date string or a date.

Examples
--------
>>> price_sheet_for("2018").x86.duration_tiers[0].price_per_gb_s
1.667e-05
>>> price_sheet_for("today").name
'2022-08'
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from simlab.core import validate
from simlab.core.schema import ARCHITECTURES

__all__ = [
    "ARCHITECTURES",
    "ERA_DATES",
    "INIT_BILLED_FOR_ZIP_FROM",
    "ONE_MS_BILLING_FROM",
    "SHEETS",
    "ArchPrices",
    "PriceSheet",
    "Tier",
    "as_date",
    "granularity_ms_for",
    "init_billed",
    "price_sheet_for",
]


#: simlab's era names and the date each stands for.
ERA_DATES: MappingProxyType[str, dt.date] = MappingProxyType(
    {
        "2018": dt.date(2018, 6, 1),
        "2020": dt.date(2020, 6, 1),
        "today": dt.date(2026, 11, 27),
    }
)

#: First day of 1 ms billing (the December 2020 billing cycle); 100 ms before.
ONE_MS_BILLING_FROM: dt.date = dt.date(2020, 12, 1)
#: First day INIT is billed for on-demand ZIP functions on managed runtimes.
INIT_BILLED_FOR_ZIP_FROM: dt.date = dt.date(2025, 8, 1)

_PRICING_PAGE = "https://aws.amazon.com/lambda/pricing/"


def _check_price(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a positive finite number, else raise."""
    if not validate.is_real(value):
        raise validate.fail(name, value, "a number in USD")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite price in USD (> 0), got {value!r}")
    return value


def _check_optional_price(name: str, value: Any) -> float | None:
    return None if value is None else _check_price(name, value)


@dataclass(frozen=True)
class Tier:
    """One volume tier of duration prices.

    Parameters
    ----------
    up_to_gb_s
        Upper end of the tier in GB-s per month (``math.inf`` for the last tier).
    price_per_gb_s
        USD per GB-s for the GB-s that fall in this tier.
    """

    up_to_gb_s: float
    price_per_gb_s: float

    def __post_init__(self) -> None:
        up = self.up_to_gb_s
        if isinstance(up, bool) or not isinstance(up, int | float) or math.isnan(up) or up <= 0:
            raise ValueError(f"up_to_gb_s must be a positive number of GB-s or inf, got {up!r}")
        object.__setattr__(self, "up_to_gb_s", float(up))
        object.__setattr__(
            self, "price_per_gb_s", _check_price("price_per_gb_s", self.price_per_gb_s)
        )


@dataclass(frozen=True)
class ArchPrices:
    """The duration prices of one architecture.

    Parameters
    ----------
    duration_tiers
        On-demand duration price tiers, in increasing order; the last ends at ``math.inf``.
        A flat price is a single tier.
    provisioned_per_gb_s
        Provisioned concurrency: USD per GB-s configured (``None`` before it existed).
    provisioned_duration_per_gb_s
        USD per GB-s of duration on a provisioned environment (``None`` before it existed).
    """

    duration_tiers: tuple[Tier, ...]
    provisioned_per_gb_s: float | None = None
    provisioned_duration_per_gb_s: float | None = None

    def __post_init__(self) -> None:
        tiers = tuple(self.duration_tiers)
        if not tiers or not all(isinstance(t, Tier) for t in tiers):
            raise ValueError(f"duration_tiers must be a non-empty tuple of Tier, got {tiers!r}")
        ups = [t.up_to_gb_s for t in tiers]
        if any(b <= a for a, b in zip(ups, ups[1:], strict=False)) or ups[-1] != math.inf:
            raise ValueError(
                f"duration_tiers need strictly increasing upper ends ending with inf, got {ups}"
            )
        object.__setattr__(self, "duration_tiers", tiers)
        for name in ("provisioned_per_gb_s", "provisioned_duration_per_gb_s"):
            object.__setattr__(self, name, _check_optional_price(name, getattr(self, name)))

    @property
    def first_tier_price(self) -> float:
        """The price of the first GB-s of a month (the list price)."""
        return self.duration_tiers[0].price_per_gb_s


@dataclass(frozen=True)
class PriceSheet:
    """All Lambda unit prices in force from one date on (US East, USD).

    Parameters
    ----------
    name
        Short name, e.g. ``"2022-08"``.
    effective_from
        First day the sheet applies.
    source
        Where the prices are published (URLs, space separated).
    request_usd_per_million
        Price of one million requests.
    x86
        Duration prices on x86_64.
    arm64
        Duration prices on arm64, ``None`` before Arm functions existed.
    ephemeral_per_gb_s
        USD per GB-s of ephemeral storage beyond the free 512 MB, ``None`` while /tmp was fixed.
    free_requests_per_month, free_gb_s_per_month
        The monthly free tier.
    notes
        What changed with this sheet, and how sure the numbers are.
    """

    name: str
    effective_from: dt.date
    source: str
    request_usd_per_million: float
    x86: ArchPrices
    arm64: ArchPrices | None = None
    ephemeral_per_gb_s: float | None = None
    free_requests_per_month: float = 1_000_000.0
    free_gb_s_per_month: float = 400_000.0
    notes: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.effective_from, dt.date):
            raise TypeError(f"effective_from must be a datetime.date, got {self.effective_from!r}")
        _check_price("request_usd_per_million", self.request_usd_per_million)
        _check_optional_price("ephemeral_per_gb_s", self.ephemeral_per_gb_s)
        for name in ("free_requests_per_month", "free_gb_s_per_month"):
            value = getattr(self, name)
            bad = isinstance(value, bool) or not isinstance(value, int | float)
            if bad or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not isinstance(self.x86, ArchPrices):
            raise TypeError(f"x86 must be ArchPrices, got {self.x86!r}")
        if self.arm64 is not None and not isinstance(self.arm64, ArchPrices):
            raise TypeError(f"arm64 must be ArchPrices or None, got {self.arm64!r}")

    @property
    def request_price(self) -> float:
        """USD per request."""
        return self.request_usd_per_million / 1e6

    def arch(self, architecture: str) -> ArchPrices:
        """Return the prices of ``architecture`` ('x86_64' or 'arm64').

        Raises
        ------
        ValueError
            For an unknown architecture, or arm64 on a sheet from before Arm functions existed.
        """
        if architecture == "x86_64":
            return self.x86
        if architecture == "arm64":
            if self.arm64 is None:
                raise ValueError(
                    f"price sheet {self.name!r} (effective {self.effective_from}) has no arm64 "
                    "prices: Arm (Graviton2) functions launched on 2021-09-29; use a later date "
                    "or architecture='x86_64'"
                )
            return self.arm64
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")

    def provisioned(self, architecture: str) -> tuple[float, float]:
        """Return (price per GB-s configured, duration price per GB-s) of provisioned concurrency.

        Raises
        ------
        ValueError
            On a sheet from before provisioned concurrency existed (December 2019).
        """
        prices = self.arch(architecture)
        if prices.provisioned_per_gb_s is None or prices.provisioned_duration_per_gb_s is None:
            raise ValueError(
                f"price sheet {self.name!r} (effective {self.effective_from}) has no provisioned "
                "concurrency prices: it launched on 2019-12-03; use a later date or "
                "provisioned_concurrency=0"
            )
        return prices.provisioned_per_gb_s, prices.provisioned_duration_per_gb_s

    def ephemeral_price(self) -> float:
        """Return USD per GB-s of ephemeral storage beyond 512 MB.

        Raises
        ------
        ValueError
            On a sheet from before /tmp became configurable (24 March 2022).
        """
        if self.ephemeral_per_gb_s is None:
            raise ValueError(
                f"price sheet {self.name!r} (effective {self.effective_from}) has no ephemeral "
                "storage price: /tmp was fixed at 512 MB until 2022-03-24; use a later date or "
                "ephemeral_storage_mb=512"
            )
        return self.ephemeral_per_gb_s


def _flat(price: float, pc: float | None = None, pc_duration: float | None = None) -> ArchPrices:
    return ArchPrices((Tier(math.inf, price),), pc, pc_duration)


_X86 = 0.0000166667
_ARM = 0.0000133334
_PC_X86 = (0.0000041667, 0.0000097222)
_PC_ARM = (0.0000033334, 0.0000077778)
_EPHEMERAL = 0.0000000309

_TIERED_X86 = ArchPrices(
    (Tier(6e9, _X86), Tier(15e9, 0.0000150000), Tier(math.inf, 0.0000133334)), *_PC_X86
)
_TIERED_ARM = ArchPrices(
    (Tier(7.5e9, _ARM), Tier(18.75e9, 0.0000120001), Tier(math.inf, 0.0000106667)), *_PC_ARM
)

#: Every price sheet, oldest first. :func:`price_sheet_for` picks the last one in effect.
SHEETS: tuple[PriceSheet, ...] = (
    PriceSheet(
        name="2018",
        effective_from=dt.date(2014, 11, 13),
        source=_PRICING_PAGE + " (pre-2020 version of the page)",
        request_usd_per_million=0.20,
        x86=_flat(0.00001667),
        notes="Launch prices as the pre-2020 pricing page showed them: $0.00001667 per GB-s "
        "(rounded), $0.20 per million requests, free tier. No Arm, no provisioned concurrency, "
        "/tmp fixed at 512 MB. Reproduces the page's worked example ($18.74).",
    ),
    PriceSheet(
        name="2019-12",
        effective_from=dt.date(2019, 12, 3),
        source=_PRICING_PAGE + " https://aws.amazon.com/blogs/compute/"
        "new-for-aws-lambda-predictable-start-up-times-with-provisioned-concurrency/",
        request_usd_per_million=0.20,
        x86=_flat(_X86, *_PC_X86),
        notes="Provisioned concurrency launched (re:Invent 2019). Duration price written with "
        "full precision, $0.0000166667 per GB-s. PC prices from the AWS Price List (secondary).",
    ),
    PriceSheet(
        name="2021-09",
        effective_from=dt.date(2021, 9, 29),
        source=_PRICING_PAGE + " https://aws.amazon.com/blogs/aws/aws-lambda-functions-powered-"
        "by-aws-graviton2-processor-run-your-functions-on-arm-and-get-up-to-34-better-price-"
        "performance/",
        request_usd_per_million=0.20,
        x86=_flat(_X86, *_PC_X86),
        arm64=_flat(_ARM, *_PC_ARM),
        notes="Arm (Graviton2) functions, duration and PC prices 20 % below x86.",
    ),
    PriceSheet(
        name="2022-03",
        effective_from=dt.date(2022, 3, 24),
        source=_PRICING_PAGE
        + " https://aws.amazon.com/blogs/compute/using-larger-ephemeral-storage-for-aws-lambda/",
        request_usd_per_million=0.20,
        x86=_flat(_X86, *_PC_X86),
        arm64=_flat(_ARM, *_PC_ARM),
        ephemeral_per_gb_s=_EPHEMERAL,
        notes="/tmp configurable from 512 to 10,240 MB; storage beyond 512 MB billed per GB-s "
        "(price from the AWS Price List, secondary).",
    ),
    PriceSheet(
        name="2022-08",
        effective_from=dt.date(2022, 8, 1),
        source=_PRICING_PAGE + " https://aws.amazon.com/about-aws/whats-new/2022/08/"
        "aws-lambda-tiered-pricing/ https://aws.amazon.com/blogs/compute/"
        "introducing-tiered-pricing-for-aws-lambda/",
        request_usd_per_million=0.20,
        x86=_TIERED_X86,
        arm64=_TIERED_ARM,
        ephemeral_per_gb_s=_EPHEMERAL,
        notes="Tiered on-demand duration prices from the billing cycle starting 2022-08-01 "
        "(announced 2022-08-04): 10 % off above 6 (x86) / 7.5 (arm) billion GB-s a month, 20 % "
        "off above 15 / 18.75 billion. Requests and PC prices unchanged.",
    ),
)


def as_date(when: dt.date | str) -> dt.date:
    """Return the date meant by ``when``: a date, a datetime, an ISO string or an era name.

    Examples
    --------
    >>> as_date("2020")
    datetime.date(2020, 6, 1)
    >>> as_date("2025-08-01")
    datetime.date(2025, 8, 1)
    """
    if isinstance(when, dt.datetime):
        return when.date()
    if isinstance(when, dt.date):
        return when
    if isinstance(when, str):
        if when in ERA_DATES:
            return ERA_DATES[when]
        try:
            return dt.date.fromisoformat(when)
        except ValueError:
            raise ValueError(
                f"date must be an era name {sorted(ERA_DATES)} or an ISO date 'YYYY-MM-DD', "
                f"got {when!r}"
            ) from None
    raise TypeError(f"date must be a datetime.date, an ISO date string or an era, got {when!r}")


def price_sheet_for(when: dt.date | str) -> PriceSheet:
    """Return the price sheet in effect on ``when`` (a date, ISO string or era name).

    Raises
    ------
    ValueError
        For a date before Lambda launched (2014-11-13).

    Examples
    --------
    >>> price_sheet_for("2020").name
    '2019-12'
    """
    day = as_date(when)
    in_effect = [s for s in SHEETS if s.effective_from <= day]
    if not in_effect:
        raise ValueError(
            f"date must be on or after {SHEETS[0].effective_from} (Lambda's launch), got {day}"
        )
    return in_effect[-1]


def granularity_ms_for(date: dt.date | str) -> float:
    """Return the billing granularity in force on ``date``: 100 ms before December 2020, then 1 ms.

    Examples
    --------
    >>> granularity_ms_for("2018"), granularity_ms_for("today")
    (100.0, 1.0)
    """
    return 100.0 if as_date(date) < ONE_MS_BILLING_FROM else 1.0


def init_billed(date: dt.date | str, package_type: str, runtime: str, provisioned: bool) -> bool:
    """Return whether INIT time is billed for such a function on ``date``.

    Parameters
    ----------
    date
        A date, ISO date string or era name.
    package_type
        ``'zip'`` or ``'image'``.
    runtime
        Runtime identifier; ``'provided'`` or ``'provided.*'`` is a custom runtime.
    provisioned
        Whether the environment is a provisioned-concurrency one.

    Examples
    --------
    >>> init_billed("2024-01-01", "zip", "python3.12", False)
    False
    >>> init_billed("2025-08-01", "zip", "python3.12", False)
    True
    """
    if package_type not in ("zip", "image"):
        raise ValueError(f"package_type must be 'zip' or 'image', got {package_type!r}")
    if not isinstance(runtime, str) or not runtime:
        raise ValueError(f"runtime must be a non-empty string like 'python3.12', got {runtime!r}")
    if not isinstance(provisioned, bool | np.bool_):
        raise TypeError(f"provisioned must be True or False, got {provisioned!r}")
    day = as_date(date)
    custom = runtime == "provided" or runtime.startswith("provided.")
    return bool(provisioned or custom or package_type == "image" or day >= INIT_BILLED_FOR_ZIP_FROM)
