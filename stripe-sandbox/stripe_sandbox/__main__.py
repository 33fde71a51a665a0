"""``python -m stripe_sandbox``: the same as the ``stripe-sandbox`` console script (serve, or
``ach settle|fail pi_...`` against a running sandbox: ``stripe_sandbox.control``)."""

import sys

from stripe_sandbox.server import main

if __name__ == "__main__":
    sys.exit(main())
