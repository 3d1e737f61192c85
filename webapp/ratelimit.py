"""Rate limits over a sliding window: at most N requests in ANY span of the window's length.

A limit is (requests, seconds). Each (scope, who) pair keeps the times of its allowed requests
(a sorted set in Redis, trimmed to the window on every call by one Lua script, so concurrent web
processes agree); a request is allowed while fewer than N lie within the last window, and a refused
one waits until the oldest leaves it. A fixed window let about twice the rate through across its
boundary; this cannot. Without Redis (a development server) the times are kept in Django's cache,
which is good enough for one process. Who is hashed: no user name or address is stored.
"""

import hashlib
import ipaddress
import math
import secrets
import time
from functools import wraps

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import JsonResponse
from django.utils.translation import gettext as _

Rate = tuple[int, int]  # (requests, seconds)
clock = time.time  # the tests stop it

# KEYS[1]: the log; ARGV: now, window seconds, limit, a unique member, 1 to record an allowed request.
SLIDING_WINDOW_LUA = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  if ARGV[5] == '1' then
    redis.call('ZADD', KEYS[1], now, ARGV[4])
    redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
  end
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""
_redis = {}


def _key(scope: str, who: str, rate: Rate) -> str:
    digest = hashlib.sha256(who.encode("utf-8")).hexdigest()[:32]
    return f"mien:rl:{scope}:{rate[0]}/{rate[1]}:{digest}"


def _redis_script():
    """The Lua script bound to the cache's Redis, or None when the cache is not Redis."""
    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith("RedisCache"):
        return None
    location = config["LOCATION"]
    if location not in _redis:
        import redis

        _redis[location] = redis.Redis.from_url(location).register_script(SLIDING_WINDOW_LUA)
    return _redis[location]


def _check(scope: str, who: str, rate: Rate, now: float | None, record: bool) -> int:
    now = clock() if now is None else now
    key = _key(scope, who, rate)
    if (script := _redis_script()) is not None:
        wait = float(script(keys=[key], args=[repr(now), rate[1], rate[0], f"{now!r}:{secrets.token_hex(4)}",
                                              "1" if record else "0"]))
    else:
        times = [t for t in cache.get(key) or [] if t > now - rate[1]]
        wait = 0 if len(times) < rate[0] else min(times) + rate[1] - now
        if record and not wait:
            times.append(now)
            cache.set(key, times, timeout=rate[1] + 1)
    return max(1, math.ceil(wait)) if wait > 0 else 0


def hit(scope: str, who: str, rate: Rate, now: float | None = None) -> int:
    """Count one request; 0 when it is within the limit, else the seconds to wait (not counted)."""
    return _check(scope, who, rate, now, record=True)


def wait(scope: str, who: str, rate: Rate, now: float | None = None) -> int:
    """Without counting: 0 when another request would be allowed, else the seconds to wait."""
    return _check(scope, who, rate, now, record=False)


def reset(scope: str, who: str, rate: Rate) -> None:
    key = _key(scope, who, rate)
    if (script := _redis_script()) is not None:
        script.registered_client.delete(key)
    else:
        cache.delete(key)


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
#
# Failures are counted per (user name, address) and, with a larger budget, per address. A browser
# where the person has logged in before carries a signed device cookie (OWASP's "device cookies"):
# there, failures count per (user name, device) and the address's budget does not apply, so guessers
# sharing the address (an office, a proxy) can never lock that person out of their right password.

DEVICE_COOKIE = "mien_device"
DEVICE_SALT = "mien.login-device"
DEVICE_MAX_AGE = 365 * 86400


def _fold(username: str) -> str:
    return username.strip().casefold()


def _device(request, username: str) -> str | None:
    """The device id of a valid device cookie issued to this user name, else None."""
    try:
        value = signing.loads(request.COOKIES.get(DEVICE_COOKIE, ""), salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or value.get("u") != _fold(username):
        return None
    return str(value.get("d"))


def _login_keys(request, username: str) -> list[tuple[str, str, Rate]]:
    if device := _device(request, username):
        return [("login-device", f"{_fold(username)}|{device}", settings.MIEN_LOGIN_RATE)]
    ip = client_ip(request)
    return [("login", f"{_fold(username)}|{ip}", settings.MIEN_LOGIN_RATE),
            ("login-ip", ip, settings.MIEN_LOGIN_IP_RATE)]


def login_wait(request, username: str) -> int:
    """Seconds before this user name may try again from this browser or address (0: go ahead)."""
    return max(wait(scope, who, rate) for scope, who, rate in _login_keys(request, username))


def login_failed(request, username: str) -> None:
    for scope, who, rate in _login_keys(request, username):
        hit(scope, who, rate)


def login_succeeded(request, username: str) -> None:
    """A right password clears that user name's failures here (not the address's)."""
    scope, who, rate = _login_keys(request, username)[0]
    reset(scope, who, rate)


def remember_device(request, response, username: str) -> None:
    """After a right password: the signed cookie that exempts this browser from the address budget."""
    device = _device(request, username) or secrets.token_urlsafe(12)
    response.set_cookie(DEVICE_COOKIE, signing.dumps({"u": _fold(username), "d": device}, salt=DEVICE_SALT),
                        max_age=DEVICE_MAX_AGE, httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE)


# --------------------------------------------------------------------------- sign-ups and passwords


def signup_wait(request) -> int:
    """Count one sign-up attempt from this address; 0 when allowed, else the seconds to wait."""
    return hit("signup-ip", client_ip(request), settings.MIEN_SIGNUP_IP_RATE)


def password_check_wait(user) -> int:
    """Before checking a signed-in person's password again (account deletion): per account only,
    so failures by others at the same address never block it."""
    return wait("password-check", str(user.pk), settings.MIEN_LOGIN_RATE)


def password_check_failed(user) -> None:
    hit("password-check", str(user.pk), settings.MIEN_LOGIN_RATE)
