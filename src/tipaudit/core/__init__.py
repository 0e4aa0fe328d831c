"""Pure domain code shared by every capability: roles, the two-person rule, indicators."""
