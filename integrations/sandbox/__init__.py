"""A local Stripe-compatible API for development and tests, built on localstripe.

Start it with ``SandboxServer`` (``integrations.sandbox.server``) or ``manage.py stripe_sandbox``;
drive it with ``SandboxControl`` (``integrations.sandbox.control``); in tests use the fixtures of
``integrations.sandbox.pytest_plugin``. Nothing in this package imports Django.
"""
