from django.test import Client
from django.utils import translation
from gonghao.testing.kit import api_for
from gonghao.crm.validation import valid_mainland_id
from gonghao.crm.exports import COLUMNS

def test_probe(crm):
    print(valid_mainland_id("11010519491231002X"), valid_mainland_id("110105194912310021"))
    with translation.override("zh-hans"):
        print([str(t) for _k, t in COLUMNS])
    api_for(crm.head).delete(f"/api/v1/customers/{crm.customer_b.pk}")
    c = Client(headers={"Accept-Language": "en"})
    c.force_login(crm.admin)
    r = c.get("/customers/?deleted=1")
    print(r.status_code, r.content.decode()[-2500:])
    r = c.get(f"/customers/{crm.customer_b.pk}/")
    print(r.status_code)
    c.force_login(crm.rep_a)
    r = c.get("/customers/?q=上海", headers={"HX-Request": "true"})
    print(r.status_code, r.content.decode()[:300])
