"""Pure rules for personal-data reveals: the written reason and the unusual-volume flag."""

from datetime import UTC, datetime, timedelta

import pytest

from haochaping.accounts import rules


@pytest.mark.parametrize("reason", [None, "", "   ", "核实", "查 看 ", "abcd"])
def test_missing_or_short_reason_is_refused_in_chinese(reason):
    message = rules.reason_error(reason)
    assert message and "理由" in message


@pytest.mark.parametrize("reason", ["核实回访电话", "  差评回访核实  ", "abcde", "回" * 500])
def test_reason_of_five_characters_or_more_is_accepted(reason):
    assert rules.reason_error(reason) is None


def test_overlong_reason_is_refused():
    assert "500" in rules.reason_error("回" * 501)


def test_windows_are_the_last_day_and_thirty_days_before():
    now = datetime(2025, 3, 31, 12, tzinfo=UTC)
    w = rules.windows(now)
    assert w.day_start == now - timedelta(hours=24)
    assert w.history_start == now - timedelta(days=31)


@pytest.mark.parametrize(
    ("last_day", "history", "flagged", "reason"),
    [
        (0, 0, False, None),
        (10, 0, False, None),  # the minimum threshold: ten in a first day is still usual
        (11, 0, True, "above_usual"),
        (30, 300, False, None),  # 300 in 30 days = 10/day; 3x = 30
        (31, 300, True, "above_usual"),
        (50, 1000, False, None),  # usual for a busy user and not above the absolute limit
        (51, 1000, True, "daily_limit"),  # above the absolute limit however busy the user usually is
        (51, 100000, True, "daily_limit"),
    ],
)
def test_volume_flag(last_day, history, flagged, reason):
    flag = rules.volume_flag(7, last_day, history, daily_limit=50)
    assert (flag is not None) is flagged
    if flagged:
        assert flag.reason == reason and flag.user_id == 7 and flag.last_day == last_day
        assert "24小时内查看" in flag.description


def test_daily_limit_is_configurable():
    assert rules.volume_flag(1, 8, 100000, daily_limit=5).reason == "daily_limit"
    assert rules.volume_flag(1, 8, 100000, daily_limit=8) is None


def test_usual_threshold_is_three_times_the_daily_average_with_a_minimum_of_ten():
    assert rules.usual_threshold(0) == 10
    assert rules.usual_threshold(100) == 10
    assert rules.usual_threshold(200) == 20
    assert rules.usual_threshold(45, history_days=3) == 45


def test_volume_flags_keeps_only_flagged_users_most_first():
    flags = rules.volume_flags([(1, 5, 0), (2, 12, 0), (3, 60, 3000), (4, 40, 0)], daily_limit=50)
    assert [(f.user_id, f.reason) for f in flags] == [(3, "daily_limit"), (4, "above_usual"), (2, "above_usual")]


def test_windows_keep_now_and_take_the_history_length():
    now = datetime(2025, 3, 31, 12, tzinfo=UTC)
    w = rules.windows(now, history_days=7)
    assert (w.now, w.day_start, w.history_start) == (now, now - timedelta(hours=24), now - timedelta(days=8))


def test_volume_flags_pass_the_limit_and_the_history_length_on():
    # 8 reveals today: above a daily limit of 5; with 30 in the last 3 days (10 a day, 3x = 30) not unusual.
    assert [f.reason for f in rules.volume_flags([(1, 8, 0)], daily_limit=5)] == ["daily_limit"]
    assert rules.volume_flags([(1, 25, 30)], history_days=3) == []
    assert [f.threshold for f in rules.volume_flags([(1, 25, 30)])] == [10]  # over 30 days: the minimum, 10


def test_reason_messages_exactly():
    assert rules.reason_error(None) == "请填写查看理由"
    assert rules.reason_error("  ") == "请填写查看理由"
    assert rules.reason_error("核实") == "查看理由至少5个字，请说明为什么需要查看完整信息"
    assert rules.reason_error("回" * 501) == "查看理由不能超过500个字"


def test_a_flag_carries_the_history_it_was_judged_on():
    assert rules.volume_flag(1, 60, 123).history == 123
    assert rules.volume_flag(1, 40, 123).history == 123
