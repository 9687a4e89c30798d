"""Audit log: sign-ins, credential changes and every mutation."""
