"""Guardrails: checks on what goes into and comes out of model calls (a registry), and their API."""
