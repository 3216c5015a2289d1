"""统一社会信用代码 (GB 32100-2015) and GB/T 2260 region code rules."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haochaping.org import rules
from haochaping.org.rules import (
    CREDIT_ALPHABET,
    credit_check_char,
    credit_code_problem,
    is_credit_code,
    make_credit_code,
)

# Published codes of real government bodies have this shape: 11 (机关), region code, organisation code.
REAL_SHAPED = [
    make_credit_code("11370102MB2853942"),
    make_credit_code("11110000000013127"),
    make_credit_code("12440300455755734"),
    make_credit_code("91350100M000100Y4"),
]


@pytest.mark.parametrize("code", REAL_SHAPED)
def test_real_shaped_codes_are_valid(code):
    assert len(code) == 18
    assert credit_code_problem(code) is None
    assert is_credit_code(code)


def test_a_known_published_code_checks():
    # 91350100M000100Y43 is the example code printed in GB 32100-2015.
    assert is_credit_code("91350100M000100Y43")
    assert credit_code_problem("91350100M000100Y44") == "统一社会信用代码校验位错误"


@pytest.mark.parametrize(
    "code, message",
    [
        ("", "统一社会信用代码应为18位"),
        ("11370102MB285394", "统一社会信用代码应为18位"),
        (REAL_SHAPED[0] + "0", "统一社会信用代码应为18位"),
        (None, "统一社会信用代码应为18位"),
        ("11370102MB28539I2X", "统一社会信用代码含有不允许的字符（只允许数字和除I、O、S、V、Z外的大写字母）"),
        ("11370102mb2853942X", "统一社会信用代码含有不允许的字符（只允许数字和除I、O、S、V、Z外的大写字母）"),
        ("11370102MB2853942Ｘ", "统一社会信用代码含有不允许的字符（只允许数字和除I、O、S、V、Z外的大写字母）"),
        (make_credit_code("113701A2MB2853942"), "统一社会信用代码第3至8位应为登记管理机关行政区划码"),
    ],
)
def test_each_kind_of_invalid_code_is_named_in_chinese(code, message):
    assert credit_code_problem(code) == message
    assert not is_credit_code(code)


credit_bodies = st.text(alphabet=CREDIT_ALPHABET, min_size=2, max_size=2).flatmap(
    lambda head: st.tuples(
        st.just(head),
        st.text(alphabet="0123456789", min_size=6, max_size=6),
        st.text(alphabet=CREDIT_ALPHABET, min_size=9, max_size=9),
    )
).map("".join)


@given(credit_bodies)
def test_any_valid_body_with_its_check_char_is_valid(body):
    assert is_credit_code(body + credit_check_char(body))


@given(credit_bodies, st.sampled_from(CREDIT_ALPHABET))
def test_changing_the_check_char_makes_it_invalid(body, other):
    right = credit_check_char(body)
    if other == right:
        other = CREDIT_ALPHABET[(CREDIT_ALPHABET.index(right) + 1) % len(CREDIT_ALPHABET)]
    assert credit_code_problem(body + other) == "统一社会信用代码校验位错误"


@given(credit_bodies, st.integers(min_value=0, max_value=16), st.sampled_from(CREDIT_ALPHABET))
def test_a_single_changed_character_is_caught(body, pos, char):
    code = body + credit_check_char(body)
    changed = code[:pos] + char + code[pos + 1 :]
    if changed != code and changed[2:8].isdigit():
        assert not is_credit_code(changed)


@pytest.mark.parametrize(
    "code, level",
    [
        ("370000", 1), ("110000", 1), ("810000", 1),
        ("370100", 2), ("419000", 2),
        ("370102", 3), ("110101", 3), ("419001", 3),
        ("370102001", 4), ("370102001000", 4),
        ("370102001001", 5),
    ],
)
def test_region_level_follows_the_code(code, level):
    assert rules.region_level(code) == level


@pytest.mark.parametrize("code", ["370102", "370102001", "370102001001"])
def test_region_codes_have_6_9_or_12_digits(code):
    assert rules.is_region_code(code)


@pytest.mark.parametrize("code", ["", "37010", "3701020", "37010200100", "37010A", " 370102", None, 370102])
def test_other_shapes_are_not_region_codes(code):
    assert not rules.is_region_code(code)


@pytest.mark.parametrize(
    "code, prefix",
    [("370000", "37"), ("370100", "3701"), ("370102", "370102"), ("370102001", "370102001"), ("370102001001", "370102001001")],
)
def test_region_prefix_is_shared_by_the_subtree(code, prefix):
    assert rules.region_prefix(code) == prefix


@pytest.mark.parametrize(
    "code, parent",
    [("370000", None), ("370100", "370000"), ("370102", "370100"), ("110101", "110100"), ("370102001", "370102"), ("370102001001", "370102001")],
)
def test_parent_code(code, parent):
    assert rules.parent_code(code) == parent


def test_nearest_parent_falls_back_when_there_is_no_city_row():
    known = {"110000", "410000", "419000", "370000", "370100"}
    assert rules.nearest_parent_code("110101", known) == "110000"  # 北京市东城区: no 110100 row
    assert rules.nearest_parent_code("419001", known) == "419000"
    assert rules.nearest_parent_code("419001", known - {"419000"}) == "410000"  # 济源市, 省直辖
    assert rules.nearest_parent_code("370102", known) == "370100"
    assert rules.nearest_parent_code("370102001", known) == "370100"
    assert rules.nearest_parent_code("370000", known) is None
    assert rules.nearest_parent_code("500101", known) is None


def test_is_ancestor():
    assert rules.is_ancestor("370000", "370102")
    assert rules.is_ancestor("370100", "370102")
    assert rules.is_ancestor("370102", "370102001")
    assert not rules.is_ancestor("370102", "370102")
    assert not rules.is_ancestor("370103", "370102")
    assert not rules.is_ancestor("370102", "370100")
    assert not rules.is_ancestor("320000", "370102")


# --- issue 18, item 7: cases the mutation run showed no test held ---------------------------------------------

# 统一社会信用代码 published by well-known companies (national enterprise credit information publicity system);
# each check character below is the one GB 32100 computes, so the weights and the alphabet are those of the standard.
PUBLISHED = {
    "914403001922038216": "华为技术有限公司",
    "9144030071526726XG": "腾讯科技（深圳）有限公司",
    "91330100716105852F": "阿里巴巴（中国）有限公司",
    "91110108551385082Q": "小米科技有限责任公司",
    "91520000214434146R": "贵州茅台酒股份有限公司",
    "91440300192317458F": "比亚迪股份有限公司",
    "91110000100010433L": "中国石油天然气集团有限公司",
}


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_of_well_known_companies_check(code):
    assert credit_check_char(code[:17]) == code[17]
    assert make_credit_code(code[:17]) == code
    assert credit_code_problem(code) is None


def test_check_character_at_both_ends_of_the_alphabet():
    # Weighted sum ≡ 0 (mod 31) gives "0", not "31"; ≡ 1 gives the last character, "Y".
    assert credit_check_char("1137010200000000M") == "0"
    assert credit_check_char("11370102000000000") == "Y"
    assert credit_check_char("1137010200000000B") == "1"


@pytest.mark.parametrize("body", ["1137010200000000", "113701020000000000", ""])
def test_check_character_needs_exactly_seventeen_characters(body):
    with pytest.raises(ValueError):
        credit_check_char(body)


def test_each_of_the_six_region_digits_must_be_a_digit():
    for position in range(2, 8):
        body = "11370102MB2853942"
        body = body[:position] + "A" + body[position + 1:]
        assert credit_code_problem(make_credit_code(body)) == "统一社会信用代码第3至8位应为登记管理机关行政区划码"


@pytest.mark.parametrize(
    "code, prefix",
    [("370112", "370112"), ("370112000000", "370112"), ("370112001000", "370112001"), ("370100000000", "3701"),
     ("370000000000", "37")],
)
def test_region_prefix_of_twelve_digit_statistical_codes(code, prefix):
    # 12-digit statistical division codes pad a county or township with zeros; the prefix ignores the padding.
    assert rules.region_prefix(code) == prefix


@pytest.mark.parametrize(
    "code, candidates",
    [
        ("370000", []),
        ("370100", ["370000"]),
        ("370112", ["370100", "370000"]),  # a county whose fifth digit is not 0
        ("110101", ["110100", "110000"]),
        ("370112001", ["370112", "370100", "370000"]),
        ("370112001001", ["370112001000", "370112001", "370112", "370100", "370000"]),
    ],
)
def test_ancestor_candidates_nearest_first(code, candidates):
    assert rules.ancestor_candidates(code) == candidates


def test_nearest_parent_of_a_village_may_be_a_nine_or_twelve_digit_township():
    assert rules.nearest_parent_code("370112001001", {"370112001", "370112"}) == "370112001"
    assert rules.nearest_parent_code("370112001001", {"370112001000", "370112001"}) == "370112001000"
    assert rules.nearest_parent_code("370112001001", {"370112"}) == "370112"


@pytest.mark.parametrize(
    "ancestor, code, expected",
    [
        ("370100", "370112", True),
        ("370112", "370112001001", True),
        ("370112001", "370112001001", True),
        ("37010", "370112", False),  # not a region code
        ("370100", "37011", False),
        ("370112001000", "370112001", False),  # the same township written twice: not its own ancestor
        ("370112", "370113001", False),
    ],
)
def test_is_ancestor_cases(ancestor, code, expected):
    assert rules.is_ancestor(ancestor, code) is expected


@pytest.mark.parametrize(
    "code, parent",
    [("370112", "370100"), ("370112001", "370112"), ("370112001001", "370112001"), ("370100", "370000")],
)
def test_parent_code_of_a_county_whose_fifth_digit_is_not_zero(code, parent):
    assert rules.parent_code(code) == parent
