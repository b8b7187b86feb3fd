"""Mints an HS256 admin-API JWT for the OpenAPI check (development keys only)."""

import base64
import hashlib
import hmac
import json
import sys
import time


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(secret: str, role: str, workspace: str | None) -> str:
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT", "kid": "check"}
    claims = {"sub": f"openapi-{role}", "role": role, "iss": "webwork",
              "aud": "webwork-scim-admin", "exp": now + 3600, "nbf": now - 5}
    if workspace:
        claims["ws"] = workspace
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


if __name__ == "__main__":
    print(mint(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
