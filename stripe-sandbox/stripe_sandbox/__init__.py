"""A local Stripe-compatible API for development and tests, built on localstripe.

Start it with ``SandboxServer`` (``stripe_sandbox.server``) or the ``stripe-sandbox`` command;
drive it with ``SandboxControl`` (``stripe_sandbox.control``); in tests use the fixtures of
``stripe_sandbox.pytest_plugin``. Nothing in this package imports Django.
"""
