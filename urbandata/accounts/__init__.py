"""Accounts (L3): users, organisation memberships, dataset grants, API tokens, sign-in."""
