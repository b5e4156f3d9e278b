"""Durable background jobs: rows in the store, run by a local worker (or a Ray executor when scaled out)."""
