"""A test PKI made at test time with the openssl CLI (no private key is ever committed):
a root CA, an intermediate, server certificates for two names and a wildcard, and client
certificates carrying SPIFFE IDs (good, expired, from another CA, two URIs, a foreign trust
domain, none). Every key is EC P-256 and written 0600.

    pki = TestPki(directory)
    pki.server_chain, pki.server_key      # api.example.test (leaf + intermediate)
    pki.client("notebook")                # (cert, key) with spiffe://prod.example/ns/lab/sa/notebook
"""
import os
import subprocess

TRUST_DOMAIN = "prod.example"


def _run(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class TestPki:
    def __init__(self, directory):
        self.dir = os.path.join(directory, "pki")
        os.makedirs(self.dir, exist_ok=True)
        self.root_cert, self.root_key = self._ca("root", None)
        self.inter_cert, self.inter_key = self._ca("intermediate", ("root", self.root_cert, self.root_key))
        self.other_ca_cert, self.other_ca_key = self._ca("other-root", None)
        # What verifies a client: the root (intermediates come in the client's chain).
        self.ca_bundle = self.root_cert
        self.server_chain, self.server_key = self.leaf("api", dns=["api.example.test"])
        self.other_chain, self.other_key = self.leaf("other", dns=["other.example.test"])
        self.wild_chain, self.wild_key = self.leaf("wild", dns=["*.wild.example.test"])

    def path(self, name):
        return os.path.join(self.dir, name)

    def _key(self, name):
        key = self.path(name + ".key")
        _run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
        os.chmod(key, 0o600)
        return key

    def _ca(self, name, issuer):
        key = self._key(name)
        cert = self.path(name + ".crt")
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                    "subjectKeyIdentifier=hash\n")
        if issuer is None:
            _run("req", "-x509", "-new", "-key", key, "-subj", f"/CN=dpuguard test {name}",
                 "-days", "30", "-out", cert, "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        else:
            csr = self.path(name + ".csr")
            _run("req", "-new", "-key", key, "-subj", f"/CN=dpuguard test {name}", "-out", csr)
            _run("x509", "-req", "-in", csr, "-CA", issuer[1], "-CAkey", issuer[2],
                 "-CAcreateserial", "-days", "30", "-extfile", ext, "-out", cert)
        return cert, key

    def _sign(self, name, san, ca, extended, dates=None, ca_leaf=False):
        key = self._key(name)
        csr, cert = self.path(name + ".csr"), self.path(name + ".crt")
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            if ca_leaf:  # a certificate that could sign others (refused as an SVID)
                f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\n")
            else:
                f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n")
            f.write(f"extendedKeyUsage={extended}\n")
            if san:
                f.write(f"subjectAltName={san}\n")
        _run("req", "-new", "-key", key, "-subj", f"/CN={name}", "-out", csr)
        if dates is None:
            _run("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
                 "-days", "30", "-extfile", ext, "-out", cert)
        else:  # an explicit validity window (an expired certificate): `openssl ca`
            self._ca_sign(csr, cert, ext, ca, dates)
        return cert, key

    def _ca_sign(self, csr, cert, ext, ca, dates):
        db = self.path("ca-db")
        os.makedirs(db, exist_ok=True)
        open(os.path.join(db, "index.txt"), "a").close()
        conf = self.path("ca.cnf")
        with open(conf, "w") as f:
            f.write(f"[ca]\ndefault_ca=test\n[test]\ndatabase={db}/index.txt\nnew_certs_dir={db}\n"
                    f"serial={db}/serial\ndefault_md=sha256\npolicy=any\nunique_subject=no\n"
                    f"[any]\ncommonName=supplied\n")
        with open(os.path.join(db, "serial"), "w") as f:
            f.write(os.urandom(8).hex() + "\n")
        _run("ca", "-batch", "-config", conf, "-cert", ca[0], "-keyfile", ca[1], "-in", csr,
             "-out", cert, "-extfile", ext, "-startdate", dates[0], "-enddate", dates[1], "-notext")

    def leaf(self, name, dns):
        """A server certificate for `dns` names, as a chain file (leaf + intermediate)."""
        cert, key = self._sign(name, ",".join("DNS:" + d for d in dns),
                               (self.inter_cert, self.inter_key), "serverAuth")
        chain = self.path(name + "-chain.pem")
        with open(chain, "w") as out:
            for part in (cert, self.inter_cert):
                with open(part) as f:
                    out.write(f.read())
        return chain, key

    def client(self, workload, uris=None, ca=None, expired=False, domain=TRUST_DOMAIN, ca_leaf=False):
        """A client certificate (chain file, key). `uris`: its URI SANs (default: the one
        SPIFFE ID spiffe://DOMAIN/ns/lab/sa/WORKLOAD); `ca`: 'other' for a foreign CA."""
        if uris is None:
            uris = [f"spiffe://{domain}/ns/lab/sa/{workload}"]
        san = ",".join("URI:" + u for u in uris)
        issuer = (self.other_ca_cert, self.other_ca_key) if ca == "other" else (self.inter_cert, self.inter_key)
        dates = ("20200101000000Z", "20210101000000Z") if expired else None
        cert, key = self._sign("client-" + workload, san, issuer, "clientAuth", dates, ca_leaf)
        chain = self.path(f"client-{workload}-chain.pem")
        with open(chain, "w") as out:
            for part in (cert,) + (() if ca == "other" else (self.inter_cert,)):
                with open(part) as f:
                    out.write(f.read())
        return chain, key


if __name__ == "__main__":
    # The README's recipe: python3 tests/integration/tls_pki.py build/pki
    import sys
    target = sys.argv[1] if len(sys.argv) > 1 else "build/pki"
    pki = TestPki(os.path.dirname(os.path.abspath(target)) if os.path.basename(target) == "pki" else target)
    chain, key = pki.client("team-a")
    print(f"root CA (clients and curl --cacert): {pki.root_cert}")
    print(f"server chain / key for api.example.test: {pki.server_chain} {pki.server_key}")
    print(f"client chain / key, {TRUST_DOMAIN} team-a: {chain} {key}")
