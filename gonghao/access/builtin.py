"""The built-in roles, seeded by migration and re-seeded by tests that flush the database.

The three administrative duties follow 等保2.0's separation: the system administrator runs
the system but cannot read the audit log; the security administrator manages who holds which
role; the auditor reads the audit log and nothing else.
"""

CUSTOMER_FULL = [
    "customer.view",
    "customer.create",
    "customer.edit",
    "customer.delete",
    "customer.transfer",
    "customer.export",
    "customer.view_sensitive",
]

OPPORTUNITY_FULL = [
    "opportunity.view",
    "opportunity.create",
    "opportunity.edit",
    "opportunity.delete",
]

# Permissions added to the built-in roles after their first release, by the migration that
# introduced them (crm 0005): appended, never removing what an administrator changed.
ADDED_IN_CRM_0005 = {
    "system_admin": ["pipeline.manage"],
    "department_head": ["interaction.create", *OPPORTUNITY_FULL],
    "sales": ["interaction.create", "opportunity.view", "opportunity.create", "opportunity.edit"],
    "customer_service": ["interaction.create"],
}

# Added by the lifecycle app's migration 0002 (onboarding requests), in the same way.
ADDED_IN_LIFECYCLE_0002 = {
    "system_admin": ["employee.approve"],
    "department_head": ["employee.request"],
}

# Added by the lifecycle app's migration 0003 (offboarding), in the same way.
ADDED_IN_LIFECYCLE_0003 = {
    "system_admin": ["employee.offboard"],
}

# Added by the accounts app's migration 0004 (second factors), in the same way.
ADDED_IN_ACCOUNTS_0004 = {
    "security_admin": ["mfa.reset"],
}

# Added by the lifecycle app's migration 0004 (access reviews, role-change requests).
ADDED_IN_LIFECYCLE_0004 = {
    "system_admin": ["access_review.manage", "role_request.approve"],
    "security_admin": ["access_review.manage", "role_request.approve"],
}

# Added by the accounts app's migration 0006 (sessions on "My security"), in the same way.
ADDED_IN_ACCOUNTS_0006 = {
    "security_admin": ["session.manage"],
}

# Added by the crm app's migration 0006 (sharing and the public pool), in the same way.
ADDED_IN_CRM_0006 = {
    "department_head": ["customer.share"],
    "sales": ["customer.share", "customer.claim"],
}

# Added by the reports app's migration 0001 (dashboards), in the same way. Marketing sees the
# aggregates but not who: no dashboard.view_people.
ADDED_IN_REPORTS_0001 = {
    "system_admin": ["dashboard.view", "dashboard.view_people"],
    "department_head": ["dashboard.view", "dashboard.view_people"],
    "sales": ["dashboard.view", "dashboard.view_people"],
    "marketing": ["dashboard.view"],
}

BUILTIN_ROLES = [
    {
        "code": "system_admin",
        "name_zh": "系统管理员",
        "name_en": "System administrator",
        "description": "Manages employees, departments and positions; restores deleted customers. "
        "Cannot read the audit log.",
        "permissions": [
            "employee.view",
            "employee.manage",
            "org.manage",
            "role.view",
            "customer.view",
            "customer.restore",
            "pipeline.manage",
            "employee.approve",
            "access_review.manage",
            "role_request.approve",
            "employee.offboard",
            "dashboard.view",
            "dashboard.view_people",
        ],
        "data_scope": "all",
        "hidden_fields": [],
    },
    {
        "code": "security_admin",
        "name_zh": "安全管理员",
        "name_en": "Security administrator",
        "description": "Grants and revokes roles, edits roles, manages API tokens and sessions, "
        "resets second factors. "
        "Cannot read the audit log.",
        "permissions": [
            "employee.view",
            "role.view",
            "role.manage",
            "token.manage",
            "session.manage",
            "mfa.reset",
            "access_review.manage",
            "role_request.approve",
        ],
        "data_scope": "all",
        "hidden_fields": [],
    },
    {
        "code": "auditor",
        "name_zh": "审计员",
        "name_en": "Auditor",
        "description": "Reads and verifies the audit log, and nothing else.",
        "permissions": ["audit.view", "audit.verify"],
        "data_scope": "all",
        "hidden_fields": [],
    },
    {
        "code": "department_head",
        "name_zh": "部门负责人",
        "name_en": "Department head",
        "description": "Sees and manages the customers of the department and its sub-departments.",
        "permissions": [
            "employee.view",
            "role.view",
            *CUSTOMER_FULL,
            "interaction.create",
            *OPPORTUNITY_FULL,
            "employee.request",
            "customer.share",
            "dashboard.view",
            "dashboard.view_people",
        ],
        "data_scope": "department_tree",
        "hidden_fields": [],
    },
    {
        "code": "sales",
        "name_zh": "销售",
        "name_en": "Sales",
        "description": "Views and edits their own customers.",
        "permissions": [
            "customer.view",
            "customer.create",
            "customer.edit",
            "customer.view_sensitive",
            "interaction.create",
            "opportunity.view",
            "opportunity.create",
            "opportunity.edit",
            "customer.share",
            "customer.claim",
            "dashboard.view",
            "dashboard.view_people",
        ],
        "data_scope": "own",
        "hidden_fields": [],
    },
    {
        "code": "customer_service",
        "name_zh": "客服",
        "name_en": "Customer service",
        "description": "Views every customer, read only, with personal data masked.",
        "permissions": ["customer.view", "interaction.create"],
        "data_scope": "all",
        "hidden_fields": [],
    },
    {
        "code": "marketing",
        "name_zh": "市场",
        "name_en": "Marketing",
        "description": "Aggregates and masked exports only: no customer pages, no personal data.",
        "permissions": ["customer.export", "dashboard.view"],
        "data_scope": "all",
        "hidden_fields": ["customer.notes", "customer.address", "customer.id_number"],
    },
]

# Pairs that one employee may not hold together (等保2.0 separation of duties).
BUILTIN_SOD_RULES = [
    {
        "code": "auditor-vs-system-admin",
        "left": "role:auditor",
        "right": "role:system_admin",
        "description": "The auditor cannot also administer the system.",
    },
    {
        "code": "auditor-vs-security-admin",
        "left": "role:auditor",
        "right": "role:security_admin",
        "description": "The auditor cannot also administer security.",
    },
]


def ensure_builtin_roles(role_model=None, sod_model=None) -> None:
    """Create missing built-in roles and rules; never overwrites what an administrator edited."""
    if role_model is None:
        from .models import Role as role_model
    if sod_model is None:
        from .models import SodRule as sod_model
    for role in BUILTIN_ROLES:
        role_model.objects.get_or_create(code=role["code"], defaults={**role, "is_builtin": True})
    for rule in BUILTIN_SOD_RULES:
        sod_model.objects.get_or_create(code=rule["code"], defaults=rule)
