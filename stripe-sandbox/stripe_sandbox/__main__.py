"""``python -m stripe_sandbox``: the same as the ``stripe-sandbox`` console script."""

from stripe_sandbox.server import main

if __name__ == "__main__":
    main()
