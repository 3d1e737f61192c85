"""Rate limits kept in Django's cache: fixed windows, atomic counters.

A limit is (requests, seconds). Each (scope, who) pair gets one counter per window, created with
``cache.add`` and bumped with ``cache.incr``: on Redis (production) both are single atomic commands,
so concurrent web processes never lose a count. The file cache used without Redis is good enough
for one development server. Who is hashed, so no user name or address is stored in the cache.
"""

import hashlib
import ipaddress
import math
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.utils.translation import gettext as _

Rate = tuple[int, int]  # (requests, seconds)
clock = time.time  # the tests stop it


def _key(scope: str, who: str, rate: Rate, window: int) -> str:
    digest = hashlib.sha256(who.encode("utf-8")).hexdigest()[:32]
    return f"mien:rl:{scope}:{rate[1]}:{window}:{digest}"


def _window(rate: Rate, now: float | None) -> tuple[int, int]:
    """(window number, whole seconds until it ends, at least 1)."""
    now = clock() if now is None else now
    window = int(now // rate[1])
    return window, max(1, math.ceil((window + 1) * rate[1] - now))


def hit(scope: str, who: str, rate: Rate, now: float | None = None) -> int:
    """Count one request; 0 when it is within the limit, else the seconds to wait."""
    window, left = _window(rate, now)
    key = _key(scope, who, rate, window)
    if cache.add(key, 1, timeout=left + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: this request opens a new count
            cache.add(key, 1, timeout=left + 1)
            count = 1
        # Backends without a native increment (the file cache) re-set the key with the default
        # timeout; keep it for the rest of its window at least.
        cache.touch(key, timeout=left + 1)
    return 0 if count <= rate[0] else left


def wait(scope: str, who: str, rate: Rate, now: float | None = None) -> int:
    """Without counting: 0 when another request would be allowed, else the seconds to wait."""
    window, left = _window(rate, now)
    return left if (cache.get(_key(scope, who, rate, window)) or 0) >= rate[0] else 0


def reset(scope: str, who: str, rate: Rate, now: float | None = None) -> None:
    window, _left = _window(rate, now)
    cache.delete(_key(scope, who, rate, window))


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the entry MIEN_TRUSTED_PROXIES hops back in
    X-Forwarded-For when our own proxies stand in front. IPv6 clients are counted per /64, the
    block one subscriber usually gets, so rotating addresses inside it does not escape a limit."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.MIEN_TRUSTED_PROXIES
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if parsed.version == 6:
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def too_many(message: str, retry_after: int) -> JsonResponse:
    return JsonResponse({"error": message, "retry_after": retry_after}, status=429,
                        headers={"Retry-After": str(retry_after)})


# --------------------------------------------------------------------------- snapshots


def snapshot_wait(request) -> int:
    """Count one snapshot for the person (user, or anonymous session) and for the address."""
    waits = [hit("snapshot-ip", client_ip(request), settings.MIEN_SNAPSHOT_IP_RATE)]
    if request.user.is_authenticated:
        waits.append(hit("snapshot-user", str(request.user.pk), settings.MIEN_SNAPSHOT_RATE))
    elif request.session.session_key:
        waits.append(hit("snapshot-session", request.session.session_key, settings.MIEN_SNAPSHOT_RATE))
    return max(waits)


def limit_snapshots(view):
    """429 with Retry-After once a person or an address posts snapshots faster than allowed."""
    @wraps(view)
    def limited(request, *args, **kwargs):
        if retry_after := snapshot_wait(request):
            return too_many(_("You are snapping faster than Mien can listen: try again in %(seconds)s seconds.")
                            % {"seconds": retry_after}, retry_after)
        return view(request, *args, **kwargs)
    return limited


# --------------------------------------------------------------------------- log-ins


def _login_who(request, username: str) -> tuple[str, str]:
    ip = client_ip(request)
    return f"{username.strip().casefold()}|{ip}", ip


def login_wait(request, username: str) -> int:
    """Seconds before this user name may try again from this address (0: go ahead)."""
    pair, ip = _login_who(request, username)
    return max(wait("login", pair, settings.MIEN_LOGIN_RATE), wait("login-ip", ip, settings.MIEN_LOGIN_IP_RATE))


def login_failed(request, username: str) -> None:
    pair, ip = _login_who(request, username)
    hit("login", pair, settings.MIEN_LOGIN_RATE)
    hit("login-ip", ip, settings.MIEN_LOGIN_IP_RATE)


def login_succeeded(request, username: str) -> None:
    """A right password clears that user name's failures from this address (not the address's)."""
    pair, _ip = _login_who(request, username)
    reset("login", pair, settings.MIEN_LOGIN_RATE)
