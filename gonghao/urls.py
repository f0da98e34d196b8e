"""Web routes and the API mount."""

from allauth.account import views as allauth_views
from django.http import HttpResponse
from django.urls import include, path

from gonghao.accounts import login_code_views, reset_views
from gonghao.accounts import views as account_views
from gonghao.api import api

# Only the allauth flows we use: signup and e-mail based password reset stay closed.
account_urls = [
    path("login/", allauth_views.login, name="account_login"),
    path("logout/", allauth_views.logout, name="account_logout"),
    path("inactive/", allauth_views.account_inactive, name="account_inactive"),
    path("reauthenticate/", allauth_views.reauthenticate, name="account_reauthenticate"),
    path("password/change/", allauth_views.password_change, name="account_change_password"),
    # Our own code-by-SMS-or-e-mail reset (gonghao.accounts.reset), not allauth's e-mail link.
    path("password/reset/", reset_views.password_reset_request, name="password_reset_request"),
    path(
        "password/reset/confirm/",
        reset_views.password_reset_confirm,
        name="password_reset_confirm",
    ),
]


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include(account_urls)),
    path("accounts/2fa/code/", login_code_views.send_login_code, name="mfa_send_login_code"),
    path("accounts/2fa/", include("allauth.mfa.urls")),
    path("me/security/", include("gonghao.accounts.security_urls")),
    path("me/tokens/", account_views.my_tokens, name="my_tokens"),
    path("me/tokens/<int:token_id>/revoke/", account_views.revoke_my_token, name="revoke_my_token"),
    path("employees/requests/", include("gonghao.lifecycle.urls")),
    path("employees/", include("gonghao.accounts.urls")),
    path("employees/", include("gonghao.lifecycle.offboarding_urls")),
    path("org/", include("gonghao.org.urls")),
    path("access/", include("gonghao.accounts.access_urls")),
    path("access/", include("gonghao.lifecycle.access_urls")),
    path("", include("gonghao.crm.opportunities_urls")),
    path("customers/", include("gonghao.crm.urls")),
    path("customers/", include("gonghao.crm.contacts_urls")),
    path("audit/", include("gonghao.audit.urls")),
    path("data/", include("gonghao.transfer.urls")),
    path("dashboard/", include("gonghao.reports.urls")),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("healthz", healthz, name="healthz"),
]
