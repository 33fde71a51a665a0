"""Processing one invoice from many threads at the same moment: one work item, once.

Real threads with their own database connections (transactional tests): on PostgreSQL the
invoice row lock serializes them; on SQLite the IMMEDIATE transactions and the busy timeout
of the settings do.
"""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection as db
from django.urls import reverse

from invoices.models import Invoice, WorkItem
from invoices.services import invoice_process

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 8
CREATED, BACK = "Work item created for", "The open work item is back in the payers"


def at_once(work, n: int = THREADS) -> list:
    """`work()` in n threads released together; what each returned, or the exception it
    raised. Each thread closes its own database connection."""
    barrier, results = threading.Barrier(n), []

    def run():
        barrier.wait()
        try:
            results.append(work())
        except Exception as error:  # noqa: BLE001 - the test looks at every outcome
            results.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _processed_once(invoice: Invoice) -> WorkItem:
    """The invoice's one work item, open; the invoice still open for payment."""
    (item,) = WorkItem.objects.filter(invoice=invoice)
    invoice.refresh_from_db()
    assert (item.status, invoice.status) == ("open", "open")
    return item


def test_concurrent_processing_makes_one_work_item_and_every_call_gets_it(invoice):
    results = at_once(lambda: invoice_process(invoice=Invoice.objects.get(pk=invoice.pk)))

    item = _processed_once(invoice)
    assert results == [item] * THREADS  # no error, no second item: the same one for all
    assert invoice_process(invoice=invoice) == item  # and again later


def test_concurrent_processing_of_a_void_invoice_is_refused_to_every_caller(invoice):
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.VOID)

    results = at_once(lambda: invoice_process(invoice=Invoice.objects.get(pk=invoice.pk)))

    assert all(isinstance(r, ValidationError) for r in results), results
    assert {r.messages[0] for r in results} == {"A void invoice is not paid."}
    assert not WorkItem.objects.exists()


def test_concurrent_process_buttons_answer_every_user_and_make_one_work_item(
    invoice, workspace, owner, staff, as_user
):
    """Staff and owner press "Process" in eight tabs at once: each is sent back to the
    invoice with a message, none sees an error page."""
    url = reverse("invoice_process", args=["acme", invoice.uuid])
    clients = [as_user(owner if i % 2 else staff) for i in range(THREADS)]

    def press():
        client = clients.pop()  # atomic: one client, one session per thread
        response = client.post(url)
        page = client.get(response["Location"])
        return response.status_code, response["Location"], page.status_code, page.text

    results = at_once(press)

    item = _processed_once(invoice)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    detail = invoice.get_absolute_url()
    assert {(status, location, shown) for status, location, shown, _ in results} == {
        (302, detail, 200)
    }
    # Each is told the item was made or is back (the check for an open item happens before
    # the lock, so more than one may hear "created"; there is only one item all the same).
    told = [CREATED if CREATED in text else BACK if BACK in text else text for *_, text in results]
    assert set(told) <= {CREATED, BACK} and CREATED in told, told
    assert all(item.assignee_name in text for *_, text in results)
