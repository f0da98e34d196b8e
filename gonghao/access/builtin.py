"""The built-in roles, seeded by migration and re-seeded by tests that flush the database."""

BUILTIN_ROLES = [
    {
        "code": "system_admin",
        "name_zh": "系统管理员",
        "name_en": "System administrator",
        "description": "Manages employees, departments and positions. Cannot read the audit log.",
        "permissions": ["employee.view", "employee.manage", "org.manage"],
        "data_scope": "all",
    },
    {
        "code": "security_admin",
        "name_zh": "安全管理员",
        "name_en": "Security administrator",
        "description": "Grants and revokes roles, manages API tokens. Cannot read the audit log.",
        "permissions": ["employee.view", "role.manage", "token.manage"],
        "data_scope": "all",
    },
    {
        "code": "auditor",
        "name_zh": "审计员",
        "name_en": "Auditor",
        "description": "Reads and verifies the audit log, and nothing else.",
        "permissions": ["audit.view", "audit.verify"],
        "data_scope": "all",
    },
]


def ensure_builtin_roles(role_model=None) -> None:
    """Create missing built-in roles; never overwrites what an administrator edited."""
    if role_model is None:
        from .models import Role as role_model
    for role in BUILTIN_ROLES:
        role_model.objects.get_or_create(code=role["code"], defaults={**role, "is_builtin": True})
