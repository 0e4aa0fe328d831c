"""Procurement screening: read the OCDS data a government publishes and screen it for risk.

``tipaudit.procurement.ingest`` reads OCDS files strictly and streams one compiled release per
contracting process (``ocid``); later modules screen those against the reference data. This is a
domain package: it may import ``tipaudit.core``, ``tipaudit.errors`` and ``tipaudit.refdata``,
never web, database or command-line libraries.
"""
