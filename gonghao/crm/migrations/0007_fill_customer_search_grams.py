"""Index the customers created before the search index existed (logic frozen here)."""

from django.db import migrations


def grams_of(name_folded, phone_digits):
    name = {name_folded[i : i + 2] for i in range(len(name_folded) - 1)}
    phone = {"#" + phone_digits[i : i + 4] for i in range(len(phone_digits) - 3)}
    return name | phone


def fill(apps, schema_editor):
    Customer = apps.get_model("crm", "Customer")
    CustomerGram = apps.get_model("crm", "CustomerGram")
    postings = []
    rows = Customer.objects.values_list("pk", "name_folded", "phone_digits")
    for pk, name_folded, phone_digits in rows.iterator(chunk_size=5000):
        postings.extend(
            CustomerGram(gram=gram, customer_id=pk)
            for gram in grams_of(name_folded or "", phone_digits or "")
        )
        if len(postings) >= 20000:
            CustomerGram.objects.bulk_create(postings, ignore_conflicts=True)
            postings = []
    CustomerGram.objects.bulk_create(postings, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("crm", "0006_customer_search_grams")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
