"""Messages people see come out in Chinese, including those of Django and libraries the project overrides."""

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError
from django.utils import translation


def test_password_too_short_is_said_in_chinese():
    with translation.override("zh-hans"):
        try:
            MinimumLengthValidator(min_length=10).validate("short")
        except ValidationError as exc:
            message = exc.messages[0]
    assert message == "密码太短，至少需要 10 个字符。"


def test_import_validation_heading_is_fixed():
    with translation.override("zh-hans"):
        assert translation.gettext("Some rows failed to validate") == "部分行数据校验失败"
