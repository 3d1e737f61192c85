"""Helpers for tests that boot the real production web process (gunicorn) in a subprocess."""

import os
import re
import secrets
import socket
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
    # The test servers speak plain HTTP.
    "MIEN_SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0",
    "WEB_CONCURRENCY": "1",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(settings_dict) -> str:
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    return (f"postgres://{user}{password}@{settings_dict.get('HOST') or '127.0.0.1'}:"
            f"{settings_dict.get('PORT') or 5432}/{settings_dict['NAME']}")


def clean_env(**extra) -> dict:
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
            **PRODUCTION_ENV, **extra}


def wait_until_up(process, base_url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the web process exited with {process.returncode}:\n{read_log(process)}")
        try:
            requests.get(base_url + "/accounts/login/", timeout=30)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.5)
    raise AssertionError("the web process did not answer in time")


def read_log(process) -> str:
    log = getattr(process, "log_path", None)
    return Path(log).read_text(errors="replace")[-5000:] if log else ""


def start(command: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    process.log_path = log_path
    return process


def stop(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def gunicorn_worker(master_pid: int) -> int:
    """The one gunicorn worker under master_pid (through `make`'s exec, master_pid may be gunicorn)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for pid in [master_pid, *children_of(master_pid)]:
            try:
                if "gunicorn" in Path(f"/proc/{pid}/cmdline").read_text():
                    workers = children_of(pid)
                    if workers:
                        return workers[0]
            except OSError:
                pass
        time.sleep(0.5)
    raise AssertionError("no gunicorn worker found")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) / 1024


def send_raw(port: int, head: bytes, body_chunks, timeout: float = 60) -> bytes:
    """Send a request whose body may be far larger than the server accepts; returns what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(head)
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # the server answered and closed before the body was all sent: that is the point
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    return answer


# With a CSRF cookie, Django's CSRF check reads the form body for the token: the costly path.
CSRF_COOKIE = "csrftoken=" + "a" * 32


def many_parts_request(path: str, parts: int, part_bytes: int, boundary: str = "mienprobe") -> tuple[bytes, list]:
    """Head and body chunks of a multipart POST with `parts` file parts of `part_bytes` each."""
    payload = b"\xff\xd8\xff" + b"\x00" * (part_bytes - 3)
    chunks = []
    for index in range(parts):
        chunks.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"image{index or ''}\"; "
                      f"filename=\"p{index}.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".encode())
        chunks.append(payload)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    length = sum(len(c) for c in chunks)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {length}\r\nCookie: {CSRF_COOKIE}\r\nConnection: close\r\n\r\n").encode()
    return head, chunks


def chunked_request(path: str, total_bytes: int, chunk_bytes: int = 1024 * 1024) -> tuple[bytes, list]:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            f"Transfer-Encoding: chunked\r\nCookie: {CSRF_COOKIE}\r\nConnection: close\r\n\r\n").encode()
    piece = f"{chunk_bytes:x}\r\n".encode() + b"\x00" * chunk_bytes + b"\r\n"
    return head, [piece] * (total_bytes // chunk_bytes) + [b"0\r\n\r\n"]
