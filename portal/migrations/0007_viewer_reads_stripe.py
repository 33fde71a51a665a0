"""The built-in Viewer role gains stripe=read: the Stripe dashboard now needs stripe=view and
stripe=read, as the payment guide says. Only Viewer roles nobody edited are changed."""

from django.db import migrations

OLD = ["stripe=view", "contacts=view"]
NEW = ["stripe=view", "stripe=read", "contacts=view"]


def forwards(apps, schema_editor):
    Role = apps.get_model("portal", "Role")
    for role in Role.objects.filter(name="Viewer", builtin=True):
        if sorted(role.permissions) == sorted(OLD):
            role.permissions = NEW
            role.save(update_fields=["permissions"])


def backwards(apps, schema_editor):
    Role = apps.get_model("portal", "Role")
    for role in Role.objects.filter(name="Viewer", builtin=True):
        if sorted(role.permissions) == sorted(NEW):
            role.permissions = OLD
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("portal", "0006_auditentry")]
    operations = [migrations.RunPython(forwards, backwards)]
