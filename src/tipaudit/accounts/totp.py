"""Time-based one-time passwords (RFC 6238) as an optional second factor."""

from __future__ import annotations

import pyotp
import segno


def new_totp_secret() -> str:
    return str(pyotp.random_base32())


def provisioning_uri(secret: str, username: str, issuer: str = "tipaudit") -> str:
    return str(pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer))


def qr_svg(uri: str) -> str:
    """An inline SVG QR code for an authenticator app (no external service involved)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, title="Authenticator set-up code"))


def verify_totp(secret: str, code: str) -> bool:
    """Accept the current code and the one either side of it (30 s clock drift)."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return False
    return bool(pyotp.TOTP(secret).verify(code, valid_window=1))
