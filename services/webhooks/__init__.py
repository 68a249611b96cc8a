"""Webhooks: subscriptions, signed deliveries (Standard Webhooks), and their dispatcher."""
