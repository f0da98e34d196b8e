"""Template helpers of the security pages."""

from django import template

from gonghao.accounts import login_codes

register = template.Library()


@register.simple_tag
def login_codes_allowed() -> bool:
    """Whether the 2FA login page offers "send me a code instead"."""
    return login_codes.allowed()
