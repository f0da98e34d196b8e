"""Encrypt the TOTP secrets and recovery-code seeds allauth stored in clear
(gonghao.accounts.mfa_adapter); reversible."""

from django.db import migrations

# Authenticator.data keys holding a secret, per authenticator type.
SECRET_FIELDS = {"totp": ("secret",), "recovery_codes": ("seed",)}


def _convert(apps, transform) -> None:
    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.filter(type__in=SECRET_FIELDS).iterator():
        data = dict(authenticator.data)
        for key in SECRET_FIELDS[authenticator.type]:
            if isinstance(data.get(key), str):
                data[key] = transform(data[key])
        if isinstance(data.get("migrated_codes"), list):
            data["migrated_codes"] = [transform(code) for code in data["migrated_codes"]]
        if data != authenticator.data:
            authenticator.data = data
            authenticator.save(update_fields=["data"])


def encrypt(apps, schema_editor):
    from gonghao.accounts.mfa_adapter import PREFIX, encrypt_secret

    _convert(apps, lambda value: value if value.startswith(PREFIX) else encrypt_secret(value))


def decrypt(apps, schema_editor):
    from gonghao.accounts.mfa_adapter import decrypt_secret

    _convert(apps, decrypt_secret)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_second_factor_code"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]
    operations = [migrations.RunPython(encrypt, decrypt)]
