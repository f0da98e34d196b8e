"""The customer page loads its opportunities for those who may see opportunities."""

from django.test import Client


def _page(employee, customer):
    client = Client()
    client.force_login(employee)
    return client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_opportunities_section_only_for_opportunity_viewers(crm):
    fragment_url = f"/customers/{crm.customer_a.pk}/opportunities/"
    assert f'hx-get="{fragment_url}"' in _page(crm.rep_a, crm.customer_a)
    assert fragment_url not in _page(crm.agent, crm.customer_a)
