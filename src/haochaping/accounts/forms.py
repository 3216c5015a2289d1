"""Login forms. Labels and errors are Chinese; the field names ``password`` and ``otp`` are the ones django-axes
masks in what it stores about failed attempts (AXES_SENSITIVE_PARAMETERS)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "：")
        super().__init__(*args, **kwargs)


class LoginForm(_Form):
    username = forms.CharField(
        label=_("用户名"), max_length=150, error_messages={"required": _("请输入用户名")},
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("密码"), strip=False, max_length=4096, error_messages={"required": _("请输入密码")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class OtpForm(_Form):
    otp = forms.CharField(
        label=_("动态口令"), max_length=10, error_messages={"required": _("请输入动态口令")},
        help_text=_("身份验证器（如微信小程序“腾讯身份验证器”、FreeOTP、Google Authenticator）中显示的6位数字"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*",
                                      "autofocus": True}),
    )

    def clean_otp(self):
        code = self.cleaned_data["otp"].replace(" ", "")
        if not (len(code) == 6 and code.isdigit()):
            raise forms.ValidationError(_("动态口令应为6位数字"))
        return code


class NewPasswordForm(_Form):
    """A new password for a user who must change theirs; Django's password validators apply."""

    new_password1 = forms.CharField(
        label=_("新密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
        error_messages={"required": _("请输入新密码")},
    )
    new_password2 = forms.CharField(
        label=_("再次输入新密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("请再次输入新密码")},
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        # Built per request, in the request's language.
        self.fields["new_password1"].help_text = password_validation.password_validators_help_text_html()

    def clean_new_password2(self):
        first = self.cleaned_data.get("new_password1")
        second = self.cleaned_data["new_password2"]
        if first and first != second:
            raise forms.ValidationError(_("两次输入的新密码不一致"))
        if first:
            if self.user.check_password(first):
                raise forms.ValidationError(_("新密码不能与原密码（临时密码）相同"))
            try:
                password_validation.validate_password(first, self.user)
            except forms.ValidationError as error:
                raise forms.ValidationError([_chinese(e) for e in error.error_list]) from None
        return second


def _chinese(error: forms.ValidationError) -> forms.ValidationError:
    # Django 5.2 reworded the minimum-length message and its zh_Hans catalog has no translation for it yet.
    if error.code == "password_too_short":
        return forms.ValidationError(
            _("密码太短，至少需要%(min_length)d个字符。") % (error.params or {"min_length": 10}), code=error.code
        )
    return error
