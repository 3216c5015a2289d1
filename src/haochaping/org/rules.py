"""Pure rules about organisation codes (no I/O)."""

from __future__ import annotations

import re

# GB 32100-2015 统一社会信用代码: 18 characters from this alphabet (no I, O, S, V, Z).
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714 organisation code (characters 9–17) check digit, position 17.
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

REGION_CODE_RE = re.compile(r"^(\d{6}|\d{9}|\d{12})$")


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid 统一社会信用代码, or None when it is."""
    if not isinstance(code, str) or len(code) != 18:
        return "统一社会信用代码应为18位"
    if any(c not in CREDIT_ALPHABET for c in code):
        return "统一社会信用代码含有不允许的字符（只允许数字和除I、O、S、V、Z外的大写字母）"
    if not code[2:8].isdigit():
        return "统一社会信用代码第3至8位应为登记管理机关行政区划码"
    if credit_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位错误"
    return None


def is_credit_code(code: str) -> bool:
    return credit_code_problem(code) is None


def make_credit_code(first17: str) -> str:
    """Complete 17 characters with their check character (used by demo data and tests)."""
    return first17 + credit_check_char(first17)


def is_region_code(code: str) -> bool:
    return bool(isinstance(code, str) and REGION_CODE_RE.match(code))


def region_level(code: str) -> int:
    """1 province … 5 village, from the shape of a GB/T 2260 (extended) code."""
    code = code.ljust(12, "0")
    if code[2:] == "0" * 10:
        return 1
    if code[4:] == "0" * 8:
        return 2
    if code[6:] == "0" * 6:
        return 3
    if code[9:] == "000":
        return 4
    return 5


def region_prefix(code: str) -> str:
    """The prefix that every code in the region's subtree shares."""
    level = region_level(code)
    return code[: {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}[level]]


def parent_code(code: str) -> str | None:
    """The parent's 6-digit code of a county or city (None for provinces). Municipalities' counties
    hang under the province when no city-level code exists; callers check existence."""
    level = region_level(code)
    if level == 1:
        return None
    if level == 2:
        return code[:2] + "0000"
    if level == 3:
        return code[:4] + "00"
    if level == 4:
        return code[:6]
    return code[:9]


def ancestor_candidates(code: str) -> list[str]:
    """Possible ancestors of ``code``, nearest first. Some counties have no city row (municipalities'
    districts such as 110101, 省直辖县级 units such as 419001), so a loader tries each in turn."""
    level = region_level(code)
    candidates = []
    if level >= 5:
        candidates.append(code[:9] + "000")
    if level >= 4:
        candidates.append(code[:6])
    if level >= 3:
        candidates.append(code[:4] + "00")
    if level >= 2:
        candidates.append(code[:2] + "0000")
    # A 12-digit village's township is stored with 9 digits in some data; try both shapes.
    if level >= 5:
        candidates.insert(1, code[:9])
    return [c for c in dict.fromkeys(candidates) if c != code]


def nearest_parent_code(code: str, known) -> str | None:
    """The nearest ancestor of ``code`` that is in ``known`` (any container of codes), or None."""
    for candidate in ancestor_candidates(code):
        if candidate in known:
            return candidate
    return None


def is_ancestor(ancestor: str, code: str) -> bool:
    """Whether ``ancestor`` can be a (possibly indirect) parent of ``code`` in GB/T 2260."""
    if not (is_region_code(ancestor) and is_region_code(code)) or ancestor == code:
        return False
    return region_level(ancestor) < region_level(code) and code.startswith(region_prefix(ancestor))
