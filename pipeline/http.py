"""Sending a request with bounded, polite retries, and turning failures into errors.

Retried: connection failures before anything was sent, 429, and 5xx where
the caller says a retry is safe (an idempotent request, or one the platform
de-duplicates). ``Retry-After`` (seconds or an HTTP date) and
``RateLimit-Reset`` are honoured; otherwise exponential backoff with jitter.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable

from .errors import Rejected, Retryable


@dataclass(frozen=True)
class Policy:
    tries: int = 4
    base: float = 1.0  # seconds before the first retry
    cap: float = 60.0  # longest single wait
    budget: float = 180.0  # longest total wait for one request


DEFAULT = Policy()
ONCE = Policy(tries=1)  # for questions whose answer is optional
_sleep: Callable[[float], None] = time.sleep  # tests replace it


def request(session, method: str, url: str, *, retry_safe: bool, policy: Policy = DEFAULT,
            describe: Callable[[Any], str] | None = None, hint: Callable[[int], str] | None = None, **kwargs):
    """Send and return the response, or raise Retryable / Rejected with the platform's message."""
    import requests  # 0.15 s to import: render and check load publishers but never send

    kwargs.setdefault("timeout", 30)
    waited = 0.0
    for attempt in range(1, policy.tries + 1):
        response = None
        try:
            response = session.request(method, url, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            sent = not isinstance(exc, requests.ConnectTimeout) and "NewConnectionError" not in repr(exc) \
                and "Connection refused" not in str(exc)
            if (sent and not retry_safe) or attempt == policy.tries:
                doubt = sent and not retry_safe
                raise Retryable(f"{method} {_short(url)}: {type(exc).__name__}",
                                hint="the network failed after the request left; the next run checks whether it was "
                                     "carried out" if doubt else "the network failed; the run can be repeated safely",
                                maybe_sent=doubt) from None
            wait = _backoff(attempt, policy)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError) as exc:
            # the request never left; requests would quote the header's value in its message
            raise Rejected(f"{method} {_short(url)}: a setting holds characters a request cannot carry "
                           f"({type(exc).__name__})", hint="check the token and the other settings of this "
                           "platform for stray spaces, line breaks or non-ASCII characters") from None
        else:
            status = response.status_code
            if status < 400:
                return response
            message = describe(response) if describe else _message(response)
            retryable = status == 429 or (status >= 500 and retry_safe)
            wait = _retry_after(response)
            if not retryable or attempt == policy.tries:
                cls = Retryable if (status == 429 or status >= 500) else Rejected
                raise cls(f"{method} {_short(url)} answered {status}: {message}",
                          hint=hint(status) if hint else "", status=status, retry_after=wait,
                          maybe_sent=status >= 500 and not retry_safe)
            wait = wait if wait is not None else _backoff(attempt, policy)
        if wait > policy.cap or waited + wait > policy.budget:
            status = None if response is None else response.status_code
            own = hint(status) if hint and status else ""
            raise Retryable(f"{method} {_short(url)}" + (f" answered {status}" if status else "")
                            + f": asked to wait {wait:.0f} s, more than notecast waits",
                            hint=own or "the next run will try again", status=status, retry_after=wait)
        _sleep(wait)
        waited += wait
    raise AssertionError("unreachable")


def _backoff(attempt: int, policy: Policy) -> float:
    return min(policy.cap, policy.base * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                return None
    if response.status_code != 429:  # a 5xx carries the rate-limit window's reset too: not a reason to wait
        return None
    reset = response.headers.get("RateLimit-Reset") or response.headers.get("x-rate-limit-reset")
    if reset and reset.isdigit():
        return max(0.0, int(reset) - time.time())
    return None


def _message(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason or ""
    if isinstance(body, dict):
        for key in ("message", "error_description", "error", "detail", "title"):
            if isinstance(body.get(key), str):
                name = body.get("error") if key == "message" and isinstance(body.get("error"), str) else ""
                return f"{name}: {body[key]}" if name else body[key]
    return str(body)[:300]


def answer(response) -> Any:
    """A response's JSON body, or None if it has none."""
    try:
        return response.json()
    except ValueError:
        return None


def json_object(response, where: str) -> dict:
    """A response's JSON object; a retryable error naming ``where`` if the body is anything else."""
    body = answer(response)
    if not isinstance(body, dict):
        raise Retryable(f"{where} answered {response.status_code} with something other than a JSON object",
                        hint="the next run tries again", status=response.status_code)
    return body


def timestamp(value: Any) -> datetime | None:
    """An ISO 8601 time from an API answer as an aware datetime (UTC if it has no offset), or None."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _short(url: str) -> str:
    return url.split("?")[0]
