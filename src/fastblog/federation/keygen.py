"""Making an author's RSA key pair: CPU work for the process pool (fastblog.federation.keys).

A module of its own that imports only cryptography: the pool's worker is a fresh interpreter
that imports the module of the function it runs, and fastblog.federation.keys (SQLAlchemy,
the models) would cost it ~0.8 CPU-s before the first key, against ~0.05 s for this one.
"""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_BITS = 2048  # what Mastodon makes and expects


def new_key_pair() -> tuple[str, str]:
    """A fresh key pair as (private PEM, public PEM). CPU work: run it in the process pool."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public
