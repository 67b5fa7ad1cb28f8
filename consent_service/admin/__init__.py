"""Staff accounts, roles, sign-in and the admin area at /admin/."""
