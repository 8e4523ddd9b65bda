"""A software passkey for tests without a browser: it answers allauth's WebAuthn options as a device would.

It signs with a real P-256 key and builds the same structures a browser sends (client data, authenticator
data, a "none" attestation), so the server's checks (challenge, origin, site, signature) all run for real.
"""

import os
from hashlib import sha256

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    Aaguid,
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

ORIGIN = "http://localhost"
FLAGS = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.UV


class SoftPasskey:
    def __init__(self, origin=ORIGIN):
        self.origin = origin
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.user_handle = None
        self.counter = 0

    def create(self, creation_options):
        """The registration answer to a page's js_data["creation_options"]."""
        options = creation_options["publicKey"]
        self.user_handle = websafe_decode(options["user"]["id"])
        client_data = CollectedClientData.create(type="webauthn.create", challenge=options["challenge"],
                                                 origin=self.origin)
        credential = AttestedCredentialData.create(Aaguid.NONE, self.credential_id,
                                                   ES256.from_cryptography_key(self.private_key.public_key()))
        auth_data = AuthenticatorData.create(self._rp_id_hash(options["rp"]["id"]), FLAGS | AuthenticatorData.FLAG.AT,
                                             self.counter, credential)
        attestation = AttestationObject.create("none", auth_data, {})
        return {
            "id": websafe_encode(self.credential_id), "rawId": websafe_encode(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": websafe_encode(client_data),
                         "attestationObject": websafe_encode(attestation)},
            "clientExtensionResults": {"credProps": {"rk": False}},
        }

    def get(self, request_options):
        """The signed answer to a page's js_data["request_options"]."""
        options = request_options["publicKey"]
        self.counter += 1
        client_data = CollectedClientData.create(type="webauthn.get", challenge=options["challenge"],
                                                 origin=self.origin)
        auth_data = AuthenticatorData.create(self._rp_id_hash(options["rpId"]), FLAGS, self.counter)
        signature = self.private_key.sign(bytes(auth_data) + client_data.hash, ec.ECDSA(hashes.SHA256()))
        return {
            "id": websafe_encode(self.credential_id), "rawId": websafe_encode(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": websafe_encode(client_data), "authenticatorData": websafe_encode(auth_data),
                         "signature": websafe_encode(signature), "userHandle": websafe_encode(self.user_handle)},
            "clientExtensionResults": {},
        }

    @staticmethod
    def _rp_id_hash(rp_id):
        return sha256(rp_id.encode()).digest()
