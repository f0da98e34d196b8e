"""The search index gains the ASCII trigrams of customer names: index them for the customers
already there (logic frozen here), in chunks, so a million customers need no more memory than
a few thousand."""

from django.db import migrations
from django.db.models.functions import Length

CHUNK = 5000


def latin_trigrams(name_folded):
    windows = (name_folded[i : i + 3] for i in range(len(name_folded) - 2))
    return {window for window in windows if window.isascii()}


def fill(apps, schema_editor):
    Customer = apps.get_model("crm", "Customer")
    CustomerGram = apps.get_model("crm", "CustomerGram")
    last = 0
    while True:
        chunk = list(
            Customer.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "name_folded")[:CHUNK]
        )
        if not chunk:
            return
        last = chunk[-1][0]
        postings = [
            CustomerGram(gram=gram, customer_id=pk)
            for pk, name_folded in chunk
            for gram in sorted(latin_trigrams(name_folded or ""))
        ]
        CustomerGram.objects.bulk_create(postings, batch_size=2000, ignore_conflicts=True)


def empty(apps, schema_editor):
    CustomerGram = apps.get_model("crm", "CustomerGram")
    CustomerGram.objects.annotate(width=Length("gram")).filter(width=3).delete()


class Migration(migrations.Migration):
    dependencies = [("crm", "0009_merge_search_index")]
    operations = [migrations.RunPython(fill, empty)]
