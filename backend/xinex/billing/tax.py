"""Tax ids: which Stripe `tax_id` type each country takes, and the number's format (python-stdnum).

The format is checked here (length, characters, the country prefix of an EU VAT number); whether
the number is registered is Stripe's to verify (`verification.status`, shown by GET /billing/tax-info).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from stdnum.exceptions import InvalidChecksum, ValidationError

EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# Stripe tax id type -> (countries, python-stdnum module that knows its format)
TYPES: dict[str, tuple[frozenset[str], str]] = {
    "eu_vat": (EU_COUNTRIES, "stdnum.eu.vat"),
    "gb_vat": (frozenset({"GB"}), "stdnum.gb.vat"),
    "us_ein": (frozenset({"US"}), "stdnum.us.ein"),
    "ca_bn": (frozenset({"CA"}), "stdnum.ca.bn"),
    "au_abn": (frozenset({"AU"}), "stdnum.au.abn"),
    "ch_vat": (frozenset({"CH"}), "stdnum.ch.vat"),
    "no_vat": (frozenset({"NO"}), "stdnum.no.mva"),
    "nz_gst": (frozenset({"NZ"}), "stdnum.nz.ird"),
    "in_gst": (frozenset({"IN"}), "stdnum.in_.gstin"),
    "jp_cn": (frozenset({"JP"}), "stdnum.jp.cn"),
    "br_cnpj": (frozenset({"BR"}), "stdnum.br.cnpj"),
    "mx_rfc": (frozenset({"MX"}), "stdnum.mx.rfc"),
}


@dataclass(frozen=True)
class TaxIdProblem(Exception):
    field: str
    message: str


def types_for(country: str) -> list[str]:
    return sorted(t for t, (countries, _) in TYPES.items() if country in countries)


def check(country: str, tax_id_type: str, tax_id: str) -> str:
    """The number in Stripe's compact form, or TaxIdProblem naming the field that is wrong."""
    if tax_id_type not in TYPES:
        raise TaxIdProblem("tax_id_type", f"unknown tax id type; known: {', '.join(sorted(TYPES))}")
    countries, module_name = TYPES[tax_id_type]
    if country not in countries:
        allowed = types_for(country)
        raise TaxIdProblem("tax_id_type", f"{tax_id_type} is not a tax id type of {country}"
                           + (f"; {country} takes {', '.join(allowed)}" if allowed else ""))
    module: Any = importlib.import_module(module_name)
    compact = str(module.compact(tax_id))
    if tax_id_type == "eu_vat":
        prefix = "EL" if country == "GR" else country
        if not compact.startswith(prefix):
            raise TaxIdProblem("tax_id", f"an EU VAT number of {country} starts with {prefix}")
    try:
        module.validate(compact)
    except InvalidChecksum:
        pass  # the format is right; Stripe (VIES for EU numbers) decides whether it is registered
    except ValidationError as exc:
        raise TaxIdProblem("tax_id", f"not a valid {tax_id_type} number: {exc}") from None
    return stripe_form(tax_id_type, compact)


CH_SUFFIXES = ("MWST", "TVA", "IVA", "TPV")


def stripe_form(tax_id_type: str, compact: str) -> str:
    """The number as Stripe documents the type's format (python-stdnum's compact form drops the
    GB prefix and the Swiss punctuation)."""
    if tax_id_type == "us_ein":
        return f"{compact[:2]}-{compact[2:]}"  # 12-3456789
    if tax_id_type == "gb_vat":
        return compact if compact.startswith("GB") else f"GB{compact}"  # GB123456789
    if tax_id_type == "ch_vat":  # CHE-123.456.789 MWST
        suffix = next((s for s in CH_SUFFIXES if compact.endswith(s)), "MWST")
        digits = compact.removeprefix("CHE").removesuffix(suffix)
        return f"CHE-{digits[:3]}.{digits[3:6]}.{digits[6:9]} {suffix}"
    return compact
