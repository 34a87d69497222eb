"""Indonesian provinces and the shape of regency/city codes.

Codes are the Kemendagri (Ministry of Home Affairs) ones, the same Dukcapil uses in NIKs and
KK numbers. BPS numbers the Papua provinces differently (e.g. BPS 91 is Papua Barat, 94 Papua);
mixing the two would put Papuan applicants in the wrong province, so only Kemendagri is used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

# Kepmendagri 100.1.1-6117/2022, incl. the four provinces created in 2022 (93-96).
PROVINCES: Mapping[str, str] = MappingProxyType(
    {
        "11": "Aceh",
        "12": "Sumatera Utara",
        "13": "Sumatera Barat",
        "14": "Riau",
        "15": "Jambi",
        "16": "Sumatera Selatan",
        "17": "Bengkulu",
        "18": "Lampung",
        "19": "Kepulauan Bangka Belitung",
        "21": "Kepulauan Riau",
        "31": "DKI Jakarta",
        "32": "Jawa Barat",
        "33": "Jawa Tengah",
        "34": "DI Yogyakarta",
        "35": "Jawa Timur",
        "36": "Banten",
        "51": "Bali",
        "52": "Nusa Tenggara Barat",
        "53": "Nusa Tenggara Timur",
        "61": "Kalimantan Barat",
        "62": "Kalimantan Tengah",
        "63": "Kalimantan Selatan",
        "64": "Kalimantan Timur",
        "65": "Kalimantan Utara",
        "71": "Sulawesi Utara",
        "72": "Sulawesi Tengah",
        "73": "Sulawesi Selatan",
        "74": "Sulawesi Tenggara",
        "75": "Gorontalo",
        "76": "Sulawesi Barat",
        "81": "Maluku",
        "82": "Maluku Utara",
        "91": "Papua",
        "92": "Papua Barat",
        "93": "Papua Selatan",
        "94": "Papua Tengah",
        "95": "Papua Pegunungan",
        "96": "Papua Barat Daya",
    }
)

# Kabupaten are numbered 01-69 and kota 71-79 within their province; 00, 70 and 80-99 are
# never issued, so rejecting them catches typos without shipping all 514 regencies.
_REGENCY_SUFFIX = re.compile(r"(?:0[1-9]|[1-6][0-9]|7[1-9])")


def is_known_province(code: str) -> bool:
    return code in PROVINCES


def is_regency_shaped(regency_code: str) -> bool:
    """4 ASCII digits ending in a kabupaten (01-69) or kota (71-79) number."""
    return (
        len(regency_code) == 4
        and regency_code.isascii()
        and regency_code[:2].isdigit()
        and _REGENCY_SUFFIX.fullmatch(regency_code[2:]) is not None
    )


def is_valid_regency(province_code: str, regency_code: str) -> bool:
    """True when ``regency_code`` (e.g. "3273", Kota Bandung) can be a regency or city of
    ``province_code``. It checks the shape, not that the regency exists."""
    return (
        is_known_province(province_code) and regency_code.startswith(province_code) and is_regency_shaped(regency_code)
    )
