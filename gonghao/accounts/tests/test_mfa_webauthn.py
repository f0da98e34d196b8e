"""WebAuthn security keys as a second factor, driven by a software authenticator (fido2 +
cryptography): add named keys through allauth's pages, log in with one, remove it."""

from __future__ import annotations

import json
import os
from hashlib import sha256

import pytest
from allauth.mfa.models import Authenticator
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from fido2.cose import ES256
from fido2.utils import websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

from gonghao.testing.kit import PASSWORD, make_employee

from .auth_support import events, web_login
from .mfa_support import AUTHENTICATE_URL, WEBAUTHN_ADD_URL, WEBAUTHN_LIST_URL, clear_cache

EN = {"Accept-Language": "en"}
RP_ID = "testserver"
ORIGIN = "http://testserver"
STATE_KEY = "mfa.webauthn.state"


class SoftwareKey:
    """A security key in memory: one P-256 credential, 'none' attestation."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.counter = 0

    def _common(self, client_data: CollectedClientData) -> dict:
        encoded_id = websafe_encode(self.credential_id)
        return {
            "id": encoded_id,
            "rawId": encoded_id,
            "type": "public-key",
            "clientExtensionResults": {},
            "response": {"clientDataJSON": websafe_encode(client_data)},
        }

    def register(self, challenge: str) -> str:
        public = ES256.from_cryptography_key(self.private_key.public_key())
        attested = AttestedCredentialData.create(b"\0" * 16, self.credential_id, public)
        flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.AT
        auth_data = AuthenticatorData.create(sha256(RP_ID.encode()).digest(), flags, 0, attested)
        attestation = AttestationObject.create("none", auth_data, {})
        client_data = CollectedClientData.create("webauthn.create", challenge, ORIGIN)
        credential = self._common(client_data)
        credential["response"]["attestationObject"] = websafe_encode(attestation)
        return json.dumps(credential)

    def sign(self, challenge: str) -> str:
        self.counter += 1
        auth_data = AuthenticatorData.create(
            sha256(RP_ID.encode()).digest(), AuthenticatorData.FLAG.UP, self.counter
        )
        client_data = CollectedClientData.create("webauthn.get", challenge, ORIGIN)
        signature = self.private_key.sign(
            bytes(auth_data) + sha256(bytes(client_data)).digest(), ec.ECDSA(hashes.SHA256())
        )
        credential = self._common(client_data)
        credential["response"].update(
            {
                "authenticatorData": websafe_encode(auth_data),
                "signature": websafe_encode(signature),
                "userHandle": None,
            }
        )
        return json.dumps(credential)


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True  # the test client speaks plain HTTP
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def employee(db):
    return make_employee("张三")


def _logged_in(employee) -> Client:
    client = Client()
    assert web_login(client, employee.employee_id).status_code == 302
    reauth = client.post("/accounts/reauthenticate/", {"password": PASSWORD}, headers=EN)
    assert reauth.status_code == 302
    return client


def _add_key(client: Client, key: SoftwareKey, name: str, commit):
    assert client.get(WEBAUTHN_ADD_URL, headers=EN).status_code == 200
    challenge = client.session[STATE_KEY]["challenge"]
    with commit(execute=True):
        return client.post(
            WEBAUTHN_ADD_URL, {"name": name, "credential": key.register(challenge)}, headers=EN
        )


def test_several_named_keys_can_be_added_and_one_removed(
    employee, django_capture_on_commit_callbacks
):
    client = _logged_in(employee)
    first, second = SoftwareKey(), SoftwareKey()

    assert (
        _add_key(client, first, "办公室钥匙", django_capture_on_commit_callbacks).status_code == 302
    )
    assert _add_key(client, second, "Backup", django_capture_on_commit_callbacks).status_code == 302

    keys = Authenticator.objects.filter(user=employee, type="webauthn").order_by("pk")
    assert [k.wrap().name for k in keys] == ["办公室钥匙", "Backup"]
    page = client.get(WEBAUTHN_LIST_URL, headers=EN).content.decode()
    assert "办公室钥匙" in page and "Backup" in page
    assert [e.params["type"] for e in events("auth.mfa.activated")] == ["webauthn", "webauthn"]

    remove_url = f"/accounts/2fa/webauthn/keys/{keys[0].pk}/remove/"
    assert client.post(remove_url, {}, headers=EN).status_code == 302
    assert [k.wrap().name for k in Authenticator.objects.filter(type="webauthn")] == ["Backup"]
    assert [e.params["type"] for e in events("auth.mfa.deactivated")] == ["webauthn"]


def test_login_with_a_security_key(employee, django_capture_on_commit_callbacks):
    key = SoftwareKey()
    _add_key(_logged_in(employee), key, "Key", django_capture_on_commit_callbacks)
    login_events = len(events("auth.login.succeeded"))

    client = Client()
    response = web_login(client, employee.employee_id)
    assert response["Location"] == AUTHENTICATE_URL
    assert client.get(AUTHENTICATE_URL, headers=EN).status_code == 200
    challenge = client.session[STATE_KEY]["challenge"]

    other = SoftwareKey()  # a key the employee never registered
    refused = client.post(AUTHENTICATE_URL, {"credential": other.sign(challenge)}, headers=EN)
    assert refused.status_code == 200
    assert len(events("auth.login.succeeded")) == login_events

    client.get(AUTHENTICATE_URL, headers=EN)
    challenge = client.session[STATE_KEY]["challenge"]
    accepted = client.post(AUTHENTICATE_URL, {"credential": key.sign(challenge)}, headers=EN)
    assert accepted.status_code == 302
    assert accepted["Location"] == "/"
    assert client.get("/", headers=EN).status_code == 200
    assert len(events("auth.login.succeeded")) == login_events + 1
