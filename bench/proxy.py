"""nginx configured exactly as docs/deploy.md tells operators, on a loopback port, for the bench and the tests.

Why read the configuration out of the document: the figures and the tests
then prove the set-up an operator copies, not a look-alike. The three files the
guide names (`/etc/nginx/conf.d/ldn-guide.conf`,
`/etc/nginx/snippets/ldn-guide-pages.conf` and
`/etc/nginx/snippets/ldn-guide-proxy.conf`) are taken verbatim; only the
upstream address, the cache folder and the page-file folder are replaced, and the TLS server block
becomes a plain loopback listener. The surrounding `http` settings copy
Debian's own nginx.conf, `gzip on` included, so the snippet's `gzip off`
is what keeps CSRF pages uncompressed.
"""

from __future__ import annotations

import gzip
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "deploy.md"
HTTP_FILE = "/etc/nginx/conf.d/ldn-guide.conf"
PAGES_FILE = "/etc/nginx/snippets/ldn-guide-pages.conf"
PROXY_FILE = "/etc/nginx/snippets/ldn-guide-proxy.conf"
GUIDE_UPSTREAM = "127.0.0.1:8000"
GUIDE_CACHE = "/var/cache/nginx/ldn-guide"
GUIDE_PAGES = "/var/lib/ldn-guide/pages"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)


def guide_files() -> dict[str, str]:
    """The nginx blocks of docs/deploy.md whose first line names the file they belong in."""
    files = {}
    for block in re.findall(r"```nginx\n(.*?)```", GUIDE.read_text(), flags=re.S):
        first, _, rest = block.partition("\n")
        if first.startswith("# /etc/nginx/"):
            files[first[2:].strip()] = rest
    missing = {HTTP_FILE, PAGES_FILE, PROXY_FILE} - set(files)
    if missing:
        raise RuntimeError(f"docs/deploy.md has no nginx block for {', '.join(sorted(missing))}")
    return files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proxy:
    """`with Proxy(upstream_port) as proxy:` nginx on proxy.port; `static_root` is served under /nginx-static/.

    `pages_dir` is where nginx looks for page files (`flask content snapshot`
    writes them); while it is empty every request goes to the proxy cache.
    """

    def __init__(self, upstream_port: int, worker_processes: int = 1) -> None:
        self.upstream_port = upstream_port
        self.workers = worker_processes
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ldn-nginx-"))
        self.cache_dir = self.dir / "cache"
        self.static_root = self.dir / "www"
        self.pages_dir = self.dir / "pages"
        self.process: subprocess.Popen | None = None

    def config(self) -> str:
        files = guide_files()
        http_part = files[HTTP_FILE].replace(GUIDE_UPSTREAM, f"127.0.0.1:{self.upstream_port}")
        http_part = http_part.replace(GUIDE_CACHE, str(self.cache_dir))
        proxy_part = files[PROXY_FILE]
        pages_part = files[PAGES_FILE].replace(GUIDE_PAGES, str(self.pages_dir))
        d = self.dir
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        return f"""{user}worker_processes {self.workers};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    # As in Debian's /etc/nginx/nginx.conf.
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    gzip on;
    access_log off;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;

    # {HTTP_FILE}, from docs/deploy.md
{http_part}
    server {{
        listen 127.0.0.1:{self.port};
        server_name localhost;
        client_max_body_size 1m;
        location / {{
            # {PAGES_FILE}, from docs/deploy.md
{pages_part}
        }}
        location @ldn_guide {{
            # {PROXY_FILE}, from docs/deploy.md
{proxy_part}
        }}
        # For comparison only: nginx handing out a file from disk.
        location /nginx-static/ {{
            alias {self.static_root}/;
            gzip off;
        }}
        location /nginx-static-br/ {{
            alias {self.static_root}/;
            gzip off;
            default_type text/html;
            types {{ }}
            add_header Content-Encoding br;
        }}
    }}
}}
"""

    def start(self) -> Proxy:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (`make bench` installs Debian's nginx-light)")
        for sub in ("cache", "www", "tmp", "pages"):
            (self.dir / sub).mkdir(exist_ok=True)
        if os.geteuid() == 0:  # the workers run as nobody: let them reach their folders
            os.chmod(self.dir, 0o711)  # noqa: S103  (traverse only: nobody lists nothing)
            for sub in ("cache", "tmp"):
                shutil.chown(self.dir / sub, "nobody", "nogroup")
        conf = self.dir / "nginx.conf"
        conf.write_text(self.config())
        check = subprocess.run([binary, "-t", "-q", "-p", str(self.dir), "-c", str(conf)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration:\n{check.stderr}")
        self.process = subprocess.Popen(
            [binary, "-p", str(self.dir), "-c", str(conf)], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("nginx stopped: " + self.process.stderr.read().decode()) from None
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start within 10 s")

    def worker_cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by nginx's worker processes.

        Why: on a shared machine the wall-clock request rate swings with other
        work; the CPU a worker spends per request does not, so it gives the
        rate one nginx core would reach.
        """
        ticks = 0
        master = str(self.process.pid) if self.process else ""
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == master:  # ppid
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def cached_files(self) -> list[Path]:
        return [p for p in self.cache_dir.rglob("*") if p.is_file()]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish open requests, then exit
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Reader:
    """One reader's browser, simplified: a keep-alive connection, the cookies it was given, one Accept-Encoding.

    `get` and `post` return (response, decoded body, bytes on the wire); the
    response has been read, so its headers stay available.
    """

    def __init__(self, port: int, accept_encoding: str = "") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.accept_encoding = accept_encoding
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        sent = {"Accept-Encoding": self.accept_encoding, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=sent)
        response = self.conn.getresponse()
        data = self.last_raw = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            cookie = rest.split(";", 1)[0]
            if cookie and "expires=Thu, 01 Jan 1970" not in value:
                self.cookies[name] = cookie
            else:
                self.cookies.pop(name, None)
        encoding = response.headers.get("Content-Encoding")
        if not data:  # a 304 or HEAD: nothing to decode
            encoding = None
        text = brotli.decompress(data) if encoding == "br" else gzip.decompress(data) if encoding == "gzip" else data
        head = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + len(str(response.headers).encode()) + 2
        return response, text, head + len(data)

    def get(self, path: str, **headers):
        return self.request("GET", path, headers=headers)

    def post(self, path: str, fields: dict[str, str]):
        from urllib.parse import urlencode

        return self.request("POST", path, body=urlencode(fields))

    def close(self) -> None:
        self.conn.close()
