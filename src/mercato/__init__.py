"""Mercato: multi-tenant CRM/ERP backend platform."""

__version__ = "0.1.0"
