"""The product's URLs plus bare baseline views: the same query, no auth, scope or audit."""

from django.http import JsonResponse
from django.urls import include, path

from gonghao.crm.models import Customer

PAGE = 50


def bare_customer_list(request):
    """What the scoped list does at its core: one owner's live customers, newest first."""
    owner_id = int(request.GET["owner"])
    queryset = (
        Customer.objects.filter(owner_id=owner_id, deleted_at__isnull=True)
        .select_related("owner")
        .order_by("-updated_at", "-id")
    )
    items = [
        {
            "id": c.pk,
            "kind": c.kind,
            "name": c.name,
            "status": c.status,
            "level": c.level,
            "phone": c.phone,
            "owner": {"employee_id": c.owner.employee_id, "name": c.owner.name},
            "updated_at": c.updated_at,
        }
        for c in queryset[:PAGE]
    ]
    return JsonResponse({"items": items, "count": queryset.count()})


urlpatterns = [
    path("bench/bare/customers", bare_customer_list),
    path("", include("gonghao.urls")),
]
