"""统一社会信用代码 (unified social credit code, GB 32100-2015): normalisation, validation, generation.

Layout of the 18 characters (positions counted from 1):

    1       登记管理部门代码 registration authority (see `REGISTRATION_AUTHORITIES`)
    2       机构类别代码 organisation category (not checked: its meaning depends on position 1)
    3–8     登记管理机关行政区划码 GB/T 2260 region code (six digits)
    9–17    主体标识码 = 组织机构代码 GB 11714: eight body characters + one check character
    18      校验码 GB 32100 check character

Characters come from `CHARSET` (digits and capital letters without I, O, Z, S, V). The check
character of position 18 is ``CHARSET[(31 - Σ value(cᵢ)·wᵢ mod 31) mod 31]`` with the weights
``wᵢ = 3^(i-1) mod 31`` and value(c) = index of c in `CHARSET`. The organisation code check
(GB 11714) is ``11 - Σ value(cᵢ)·wᵢ mod 11`` over positions 9–16 with weights 3,7,9,10,5,8,4,2 and
value = digit, or 10 + letter index (A=10 … Z=35); 10 is written "X", 11 is written "0".

`validate` returns machine-readable `Problem`s (a key and its parameters) so the web layer can
translate them; `describe` renders one in Chinese or English.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100 (no I, O, Z, S, V)."""

WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""Weights of positions 1–17 for the check character (3^(i-1) mod 31)."""

ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11714 weights of the eight body characters of the organisation code."""

LENGTH = 18

REGISTRATION_AUTHORITIES: dict[str, tuple[str, str]] = {
    "1": ("机构编制", "institutional establishment (机构编制) authorities"),
    "2": ("外交", "foreign affairs"),
    "3": ("司法行政", "judicial administration"),
    "4": ("文化", "culture"),
    "5": ("民政", "civil affairs"),
    "6": ("旅游", "tourism"),
    "7": ("宗教", "religious affairs"),
    "8": ("工会", "trade unions"),
    "9": ("工商（市场监管）", "industry and commerce (market regulation)"),
    "A": ("中央军委改革和编制办公室", "Reform and Establishment Office of the Central Military Commission"),
    "N": ("农业", "agriculture"),
    "Y": ("其他", "other"),
}
"""Position 1 (登记管理部门代码). GB 32100-2015 names 1 机构编制, 5 民政, 9 工商 and Y 其他; the other
codes are the authorities allocated since then (GB 32100 code table as maintained by the national
credit-code centre). Validation accepts any of these; a code outside the table is reported."""

_FORBIDDEN_LETTERS = "IOZSV"

ProblemParams = dict[str, str | int]


@dataclass(frozen=True)
class Problem:
    """One reason a code is invalid.

    `code` is a machine key:

    * "length": params {"length": found length, "expected": 18}
    * "charset": params {"chars": the offending characters, each once, in order of appearance}
    * "registration_authority": params {"found": character, "position": 1}
    * "region_code": params {"found": positions 3–8, "position": 3}
    * "org_code_check": params {"expected", "found", "position": 17}
    * "check_char": params {"expected", "found", "position": 18}
    """

    code: str
    params: ProblemParams = field(default_factory=dict)


def normalise(code: str) -> str:
    """Unicode-normalise (full-width → ASCII), drop all whitespace and upper-case."""
    folded = unicodedata.normalize("NFKC", code)
    return "".join(ch for ch in folded if not ch.isspace()).upper()


def _check_char(prefix17: str) -> str:
    total = sum(CHARSET.index(ch) * w for ch, w in zip(prefix17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def _org_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    return ord(ch) - ord("A") + 10


def org_check_char(body8: str) -> str:
    """The GB 11714 check character of an eight-character organisation code body."""
    if len(body8) != len(ORG_WEIGHTS) or not all(ch.isdigit() or "A" <= ch <= "Z" for ch in body8):
        raise ValueError(f"an organisation code body is 8 digits or capital letters, not {body8!r}")
    c9 = 11 - sum(_org_value(ch) * w for ch, w in zip(body8, ORG_WEIGHTS, strict=True)) % 11
    if c9 == 10:
        return "X"
    if c9 == 11:
        return "0"
    return str(c9)


def validate(code: str) -> list[Problem]:
    """Every problem found in `code` (after `normalise`); an empty list means the code is valid.

    A wrong length or a character outside `CHARSET` stops the check there (the check characters
    cannot be computed). Otherwise positions 1, 3–8, 9–17 and 18 are checked and all failures are
    reported.
    """
    value = normalise(code)
    problems: list[Problem] = []
    if len(value) != LENGTH:
        problems.append(Problem("length", {"length": len(value), "expected": LENGTH}))
    bad = "".join(dict.fromkeys(ch for ch in value if ch not in CHARSET))
    if bad:
        problems.append(Problem("charset", {"chars": bad}))
    if problems:
        return problems

    if value[0] not in REGISTRATION_AUTHORITIES:
        problems.append(Problem("registration_authority", {"found": value[0], "position": 1}))
    region = value[2:8]
    if not region.isdigit():
        problems.append(Problem("region_code", {"found": region, "position": 3}))
    expected_org = org_check_char(value[8:16])
    if value[16] != expected_org:
        problems.append(
            Problem("org_code_check", {"expected": expected_org, "found": value[16], "position": 17})
        )
    expected = _check_char(value[:17])
    if value[17] != expected:
        problems.append(Problem("check_char", {"expected": expected, "found": value[17], "position": 18}))
    return problems


def is_valid(code: str) -> bool:
    """True when `validate` finds no problem."""
    return not validate(code)


def make_valid(prefix17: str) -> str:
    """`prefix17` (normalised) followed by its GB 32100 check character.

    Only the check character is added: the caller is responsible for positions 1–17 (use `generate`
    for a fully valid code). ValueError unless `prefix17` is 17 characters of `CHARSET`.
    """
    prefix = normalise(prefix17)
    if len(prefix) != LENGTH - 1 or any(ch not in CHARSET for ch in prefix):
        raise ValueError(f"need 17 characters from {CHARSET!r}, got {prefix17!r}")
    return prefix + _check_char(prefix)


def generate(rng: random.Random, region_code: str) -> str:
    """A synthetic, fully valid code of an enterprise (91…) registered in `region_code`.

    Position 1 "9" (工商/市场监管), position 2 "1" (企业), the six-digit region code, a random
    eight-character organisation code body with its GB 11714 check character, and the GB 32100 check.
    """
    if len(region_code) != 6 or not region_code.isdigit():
        raise ValueError(f"a region code is six digits, not {region_code!r}")
    body = "".join(rng.choice(CHARSET) for _ in range(len(ORG_WEIGHTS)))
    return make_valid("91" + region_code + body + org_check_char(body))


def _chars_list(chars: str, sep: str) -> str:
    return sep.join(chars)


def describe(problem: Problem, lang: str) -> str:
    """A sentence explaining `problem` in Chinese (default) or English (`lang` starting with "en")."""
    p = problem.params
    en = lang.startswith("en")
    match problem.code:
        case "length":
            if en:
                return (
                    f"The unified social credit code must have {p.get('expected', LENGTH)} characters; "
                    f"this one has {p['length']}"
                )
            return f"统一社会信用代码应为{p.get('expected', LENGTH)}位，当前为{p['length']}位"
        case "charset":
            chars = str(p["chars"])
            if en:
                return (
                    f"The code contains characters that are not allowed: {_chars_list(chars, ', ')} "
                    f"(only digits and capital letters other than I, O, Z, S and V are used)"
                )
            return (
                f"代码含有不允许的字符：{_chars_list(chars, '、')}"
                "（只能使用数字和除 I、O、Z、S、V 以外的大写字母）"
            )
        case "registration_authority":
            if en:
                return (
                    f"The 1st character (registration authority code) {p['found']} "
                    "is not a valid authority code"
                )
            return f"第1位登记管理部门代码 {p['found']} 无效"
        case "region_code":
            if en:
                return f"Characters 3–8 must be a six-digit administrative division code, not {p['found']}"
            return f"第3–8位应为6位数字的行政区划代码，当前为 {p['found']}"
        case "org_code_check":
            if en:
                return (
                    f"The organization code (characters 9–17) is invalid: its check character (17th) "
                    f"should be {p['expected']}, not {p['found']}"
                )
            return f"第9–17位组织机构代码有误：其校验码（第17位）应为 {p['expected']}，而不是 {p['found']}"
        case "check_char":
            if en:
                return f"The check character (18th) should be {p['expected']}, not {p['found']}"
            return f"第18位校验码应为 {p['expected']}，而不是 {p['found']}"
        case _:
            if en:
                return f"The unified social credit code is invalid ({problem.code})"
            return f"统一社会信用代码无效（{problem.code}）"


__all__ = [
    "CHARSET",
    "LENGTH",
    "ORG_WEIGHTS",
    "REGISTRATION_AUTHORITIES",
    "WEIGHTS",
    "Problem",
    "ProblemParams",
    "describe",
    "generate",
    "is_valid",
    "make_valid",
    "normalise",
    "org_check_char",
    "validate",
]
