"""The template registry: both languages, params, secrets."""

from __future__ import annotations

import pytest

from gonghao.messaging import templates

REQUIRED = {
    "account.initial_password",
    "auth.code",
    "account.password_changed",
    "account.second_factor_reset",
    "account.dormant_disabled_manager_notice",
}


def sample_params(template) -> dict:
    return {name: f"<{name}>" for name in template.params}


def test_the_required_templates_exist():
    assert REQUIRED <= {t.code for t in templates.all_templates()}


@pytest.mark.parametrize("code", sorted(REQUIRED))
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_template_renders_every_param_in_both_languages(code, language):
    template = templates.get(code)
    rendered = templates.render(code, language, sample_params(template))
    assert rendered.subject
    for name in template.params:
        assert f"<{name}>" in rendered.body + rendered.subject
    assert "%(" not in rendered.body


def test_languages_differ():
    params = {"code": "123456", "minutes": 10}
    zh = templates.render("auth.code", "zh-hans", params)
    en = templates.render("auth.code", "en", params)
    assert zh.body == "您的验证码是 123456，10 分钟内有效。如非本人操作，请忽略。"
    assert en.body.startswith("Your verification code is 123456. It is valid for 10 minutes.")
    assert (zh.subject, en.subject) == ("验证码", "Verification code")


def test_secret_templates_are_marked():
    assert templates.get("account.initial_password").secret
    assert templates.get("auth.code").secret
    assert not templates.get("account.password_changed").secret


def test_missing_param_names_the_param_not_the_values():
    with pytest.raises(ValueError, match=r"\['code'\]") as caught:
        templates.render("auth.code", "en", {"minutes": 10, "other": "s3cret"})
    assert "s3cret" not in str(caught.value)


def test_unknown_template():
    with pytest.raises(LookupError):
        templates.get("no.such.template")


def test_registering_needs_both_languages_and_the_same_params():
    with pytest.raises(ValueError):
        templates.register("test.one_language", subject={"en": "x"}, body={"en": "y"})
    with pytest.raises(ValueError):
        templates.register(
            "test.params_differ",
            subject={"en": "x", "zh-hans": "x"},
            body={"en": "%(a)s", "zh-hans": "%(b)s"},
        )
    with pytest.raises(ValueError):
        templates.register(
            "auth.code", subject={"en": "x", "zh-hans": "x"}, body={"en": "y", "zh-hans": "y"}
        )
    # The same definition again (a module imported twice) is harmless.
    same = templates.get("auth.code")
    assert (
        templates.register("auth.code", subject=same.subject, body=same.body, secret=True) == same
    )
