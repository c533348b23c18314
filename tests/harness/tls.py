"""Certificates for an engine behind TLS: a CA, a server, a client, and a rogue client."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_certificates(folder: Path, server_ip: str) -> Path:
    """A CA, a server certificate for ``server_ip``, a client one, and a client one signed by
    another CA (``rogue-*``); the client files also as ca.pem/cert.pem/key.pem in client/."""
    folder.mkdir(parents=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True,
                       timeout=60)

    for ca in ("ca", "rogue-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", f"/CN={ca}", "-keyout", f"{ca}-key.pem", "-out", f"{ca}.pem")
    (folder / "server.ext").write_text(
        f"subjectAltName=IP:{server_ip}\nextendedKeyUsage=serverAuth\n"
    )
    (folder / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for who, ca, ext in (("server", "ca", "server.ext"), ("client", "ca", "client.ext"),
                         ("rogue", "rogue-ca", "client.ext")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={who}",
                "-keyout", f"{who}-key.pem", "-out", f"{who}.csr")
        openssl("x509", "-req", "-in", f"{who}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}-key.pem",
                "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", f"{who}-cert.pem")
    client = folder / "client"
    client.mkdir()
    for src, dst in (("ca.pem", "ca.pem"), ("client-cert.pem", "cert.pem"),
                     ("client-key.pem", "key.pem")):
        (client / dst).write_bytes((folder / src).read_bytes())
    return folder
