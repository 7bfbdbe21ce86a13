"""Support requests from a business's members (the help page)."""
