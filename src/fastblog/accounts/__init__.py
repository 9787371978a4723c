"""Accounts: users, sign-up and login, tokens and browser sessions, passwords, pictures."""
