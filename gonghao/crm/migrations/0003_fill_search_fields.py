"""Fill the search column for customers created before it existed."""

import unicodedata

from django.db import migrations


def fill(apps, schema_editor):
    Customer = apps.get_model("crm", "Customer")
    for customer in Customer.objects.only("pk", "name").iterator(chunk_size=2000):
        folded = unicodedata.normalize("NFKC", customer.name or "").casefold()
        Customer.objects.filter(pk=customer.pk).update(name_folded=folded)


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_search_fields")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
