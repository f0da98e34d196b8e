"""The columns each import reads, with their titles in both languages (either is accepted)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import get_language


@dataclass(frozen=True)
class Column:
    key: str
    en: str
    zh: str
    required: bool = False

    def title(self, language: str | None = None) -> str:
        language = language or get_language() or "en"
        title = self.zh if language.lower().startswith("zh") else self.en
        return f"{title}*" if self.required else title


CUSTOMER_COLUMNS = (
    Column("name", "Name", "名称", required=True),
    Column("kind", "Kind", "类型"),
    Column("industry", "Industry", "行业"),
    Column("level", "Level", "级别"),
    Column("source", "Source", "来源"),
    Column("status", "Status", "状态"),
    Column("owner", "Owner 工号", "负责人工号"),
    Column("phone", "Phone", "电话"),
    Column("email", "E-mail", "邮箱"),
    Column("id_number", "ID number", "身份证号"),
    Column("address", "Address", "地址"),
    Column("tags", "Tags", "标签"),
    Column("notes", "Notes", "备注"),
)

CONTACT_COLUMNS = (
    Column("customer_id", "Customer ID", "客户ID", required=True),
    Column("name", "Name", "姓名", required=True),
    Column("title", "Title", "职务"),
    Column("phone", "Phone", "电话"),
    Column("email", "E-mail", "邮箱"),
    Column("wechat", "WeChat ID", "微信号"),
    Column("is_primary", "Primary", "主联系人"),
    Column("notes", "Notes", "备注"),
)

EMPLOYEE_COLUMNS = (
    Column("name", "Name", "姓名", required=True),
    Column("department", "Department code", "部门编码"),
    Column("position", "Position code", "岗位编码"),
    Column("manager", "Manager 工号", "上级工号"),
    Column("phone", "Phone", "手机"),
    Column("email", "E-mail", "邮箱"),
    Column("hire_date", "Hire date", "入职日期"),
    Column("roles", "Roles", "角色"),
)

COLUMNS = {
    "customers": CUSTOMER_COLUMNS,
    "contacts": CONTACT_COLUMNS,
    "employees": EMPLOYEE_COLUMNS,
}

# Template example rows (fictional data; the 555 range is never assigned).
EXAMPLES = {
    "customers": {
        "name": "上海示例科技有限公司",
        "kind": "company",
        "level": "A",
        "source": "referral",
        "status": "lead",
        "phone": "13800000000",
        "email": "buyer@example.cn",
        "tags": "VIP,华东",
    },
    "contacts": {
        "customer_id": "1",
        "name": "张三",
        "title": "采购经理",
        "phone": "13800000000",
        "is_primary": "1",
    },
    "employees": {"name": "李四", "department": "SALES", "email": "lisi@example.cn"},
}

_DECORATION = re.compile(r"[\s*＊:：()（）_\-]+")


def normalise_title(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return _DECORATION.sub("", folded).replace("\ufeff", "")


def titles_index(kind: str) -> dict[str, str]:
    """Normalised title (English, Chinese or the key itself) → column key."""
    index: dict[str, str] = {}
    for column in COLUMNS[kind]:
        for title in (column.key, column.en, column.zh):
            index[normalise_title(title)] = column.key
    return index
