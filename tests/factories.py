"""A factory for every model (factories per app, here in one module)."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from integrations.models import StripeConnection, StripeEvent, WebhookEndpoint
from portal.models import Contact, Membership, OrgUnit, Role, Workspace
from portal.services import builtin_roles_ensure

PASSWORD = "correct-horse-battery"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.test")
    email = factory.LazyAttribute(lambda o: o.username)
    first_name = "Test"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(DjangoModelFactory):
    """A workspace with its built-in roles, as `workspace_create` makes them."""

    class Meta:
        model = Workspace
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"workspace-{n}")

    @factory.post_generation
    def builtin_roles(obj, create, extracted, **kwargs):
        if create:
            builtin_roles_ensure(workspace=obj)


class OrgUnitFactory(DjangoModelFactory):
    class Meta:
        model = OrgUnit

    workspace = factory.SubFactory(WorkspaceFactory)
    parent = None
    name = factory.Sequence(lambda n: f"Unit {n}")
    path = factory.LazyAttribute(lambda o: f"{o.parent.path if o.parent else ''}/{o.name}")


class RoleFactory(DjangoModelFactory):
    class Meta:
        model = Role

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Role {n}")
    permissions = factory.LazyFunction(list)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    org_unit = None

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):
        """`roles=["Owner"]` (names of the workspace's roles) or Role objects."""
        for role in extracted or []:
            if isinstance(role, str):
                role = obj.workspace.roles.get(name=role)
            obj.roles.add(role)


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    phone = "+1 555 0100"
    custom_fields = factory.LazyFunction(dict)


class StripeConnectionFactory(DjangoModelFactory):
    """A connection row; tests that call Stripe register its key with the sandbox first."""

    class Meta:
        model = StripeConnection

    workspace = factory.SubFactory(WorkspaceFactory)
    secret_key = factory.Sequence(lambda n: f"sk_test_factory{n:08d}SECRET4242")
    publishable_key = factory.Sequence(lambda n: f"pk_test_factory{n:08d}PUBLIC4242")
    mode = StripeConnection.Mode.TEST
    account_id = factory.Sequence(lambda n: f"acct_factory{n}")
    account_name = "Factory Account"
    key_prefix = "sk_test_"
    key_last4 = "4242"
    is_default = True
    health = StripeConnection.Health.OK


class WebhookEndpointFactory(DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    connection = factory.SubFactory(StripeConnectionFactory)
    secret = factory.Sequence(lambda n: f"whsec_factorySecret{n:08d}")


class StripeEventFactory(DjangoModelFactory):
    class Meta:
        model = StripeEvent

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    event_id = factory.Sequence(lambda n: f"evt_factory{n}")
    type = "charge.succeeded"
    created = factory.LazyFunction(timezone.now)
    payload = factory.LazyAttribute(
        lambda o: {"id": o.event_id, "object": "event", "type": o.type, "data": {"object": {}}}
    )
