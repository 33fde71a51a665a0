"""Invoice pages: invoices and the payment process (staff), the payers' inbox and pay form."""
