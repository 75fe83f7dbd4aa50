"""A real Kubernetes API server on loopback: etcd (Debian's package) and kube-apiserver with kubectl,
built from the Go module proxy by `task setup:kube`. No controller, scheduler or node runs, so what is
applied is validated, admitted and stored, and nothing starts: enough to check manifests, RBAC and
ServiceAccount tokens (TokenRequest, TokenReview) for real."""

import json
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.processes import AS_SHIPPED, VERSIONS, Server, free_port, tool

ADMIN = "amx-test-admin"
ISSUER = "https://kubernetes.default.svc.cluster.local"


class LocalCluster:
    def __init__(self, tmp: Path):
        version = VERSIONS["KUBE_VERSION"]
        apiserver = tool(f"bin/kube-apiserver-{version}", "setup:kube")
        self.kubectl_bin = tool(f"bin/kubectl-{version}", "setup:kube")
        etcd = shutil.which("etcd")
        if etcd is None:
            raise RuntimeError("etcd is missing: run ./task setup:kube (./task test does)")
        self.tmp = tmp
        # etcd fsyncs every write; its data is thrown away at the end, so keep it in memory when we can.
        self._etcd_dir = Path(tempfile.mkdtemp(prefix="amx-etcd-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
        client, peer = free_port(), free_port()
        self.etcd = Server([etcd, "--name=amx", f"--data-dir={self._etcd_dir}",
                            f"--listen-client-urls=http://127.0.0.1:{client}",
                            f"--advertise-client-urls=http://127.0.0.1:{client}",
                            f"--listen-peer-urls=http://127.0.0.1:{peer}",
                            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                            f"--initial-cluster=amx=http://127.0.0.1:{peer}"],
                           f"http://127.0.0.1:{client}", tmp / "etcd.log", ready_path="/health",
                           ready=lambda response: response.status_code == 200, env=AS_SHIPPED)
        try:
            self.apiserver = self._start_apiserver(apiserver)
        except BaseException:
            self.etcd.stop()
            raise

    def _start_apiserver(self, binary: Path) -> Server:
        tmp = self.tmp
        key, public = tmp / "sa.key", tmp / "sa.pub"
        subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(public)], check=True,
                       capture_output=True)
        self.admin_token = secrets.token_urlsafe(24)
        tokens = tmp / "tokens.csv"
        tokens.write_text(f"{self.admin_token},{ADMIN},{ADMIN},system:masters\n")
        tokens.chmod(0o600)
        port = free_port()
        argv = [str(binary), f"--etcd-servers={self.etcd.url}", "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1", f"--secure-port={port}", f"--cert-dir={tmp / 'certs'}",
                f"--service-account-issuer={ISSUER}", f"--service-account-key-file={public}",
                f"--service-account-signing-key-file={key}", f"--token-auth-file={tokens}",
                "--authorization-mode=RBAC", "--endpoint-reconciler-type=none", "--service-cluster-ip-range=10.96.0.0/16",
                "--enable-priority-and-fairness=false", "--profiling=false"]
        server = Server(argv, f"https://127.0.0.1:{port}", tmp / "kube-apiserver.log", ready_path="/readyz",
                        ready=lambda response: response.status_code == 200, verify=False, timeout=120,
                        env=AS_SHIPPED)
        # The serving certificate the API server made for itself; its CA is in the same file.
        self.ca_cert = tmp / "certs" / "apiserver.crt"
        self.kubeconfig = tmp / "kubeconfig"
        self.kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "amx",
            "clusters": [{"name": "amx", "cluster": {"server": server.url, "certificate-authority": str(self.ca_cert)}}],
            "users": [{"name": ADMIN, "user": {"token": self.admin_token}}],
            "contexts": [{"name": "amx", "context": {"cluster": "amx", "user": ADMIN}}]}))
        self.kubeconfig.chmod(0o600)
        return server

    @property
    def url(self) -> str:
        return self.apiserver.url

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """kubectl as the cluster admin; with check, a failure raises naming the command and its stderr."""
        result = subprocess.run([str(self.kubectl_bin), f"--kubeconfig={self.kubeconfig}", *args], input=stdin,
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result

    def service_account_token(self, namespace: str, name: str, audience: str | None = None,
                              seconds: int = 600) -> str:
        """A token for the ServiceAccount, minted by the API server (TokenRequest), as a pod would get."""
        args = ["create", "token", name, "-n", namespace, f"--duration={seconds}s"]
        return self.kubectl(*args, *([f"--audience={audience}"] if audience else [])).stdout.strip()

    def stop(self):
        # Its state goes with etcd's: no need to wait out a graceful shutdown (seen taking 14 s on a busy machine).
        self.apiserver.stop(grace=3)
        self.etcd.stop()
        shutil.rmtree(self._etcd_dir, ignore_errors=True)
