"""Public abuse reports: receipts, encryption, the review workflow and transparency statistics."""
