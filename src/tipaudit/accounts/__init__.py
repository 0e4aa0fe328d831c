"""Staff accounts: password hashing, second factor and token formats (no storage here)."""
