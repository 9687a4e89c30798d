"""Tenants (organizations), memberships, invitations, switching the active tenant."""
