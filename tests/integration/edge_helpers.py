"""Helpers for the SPEC §10 edge-policy tests: real keys and tokens (PyJWT + cryptography), a JWKS server and a
forward-auth server (Python's http.server in a thread, on free ports)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

ISSUER = "https://idp.example/"
AUDIENCE = "my-api"


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: object

    def public_jwk(self) -> dict:
        cls = {"RS256": RSAAlgorithm, "ES256": ECAlgorithm, "EdDSA": OKPAlgorithm}[self.alg]
        jwk = json.loads(cls.to_jwk(self.private.public_key()))
        jwk.update(kid=self.kid, alg=self.alg, use="sig")
        return jwk

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def token(self, **overrides) -> str:
        now = int(time.time())
        claims = {"sub": "alice", "email": "alice@example.com", "iss": ISSUER, "aud": AUDIENCE,
                  "iat": now, "exp": now + 600, "roles": ["admin", "dev"]}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.private, algorithm=self.alg, headers={"kid": self.kid})


def make_key(alg: str, kid: str) -> SigningKey:
    if alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    return SigningKey(kid=kid, alg=alg, private=private)


def jwks(*keys: SigningKey) -> str:
    return json.dumps({"keys": [k.public_jwk() for k in keys]})


def b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(**claims) -> str:
    now = int(time.time())
    body = {"sub": "mallory", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600, **claims}
    return f"{b64url(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{b64url(json.dumps(body).encode())}."


def hs256_with(secret: bytes, kid: str | None = None, **claims) -> str:
    """HS256 signed with arbitrary bytes, e.g. the server's RSA public key (the key-confusion attack)."""
    import hashlib
    import hmac

    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    body = {"sub": "mallory", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600, **claims}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(body).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


@dataclass
class MiniServer:
    """A tiny HTTP server in a thread. `routes[path] = fn(handler) -> (status, headers, body)`."""

    routes: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> "MiniServer":
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                path = self.path.split("?")[0]
                outer.calls.append((path, dict(self.headers.items())))
                fn = outer.routes.get(path)
                status, headers, body = fn(self) if fn else (404, {}, b"not found")
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def calls_to(self, path: str) -> int:
        return sum(1 for p, _ in self.calls if p == path)

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
