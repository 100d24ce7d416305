"""Call an API with tokens that astra-auth obtains and renews.

    python examples/call_api.py TARGET URL

TARGET is a target set up with `astra-auth configure`; URL is an endpoint of
the API under test.  The token is fetched (or taken from the cache), renewed
before it expires, and renewed once more if the API answers 401.  When no
token can be had, it says why (the error category) and what to do (the first
hint), and exits with astra-auth's own exit code for that category.
"""

from __future__ import annotations

import asyncio
import sys

import httpx

import astra_auth


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    target, url = sys.argv[1], sys.argv[2]
    try:
        auth = astra_auth.auth_for(target)
        with httpx.Client(auth=auth) as client:  # synchronous
            print("sync: ", client.get(url).status_code)

        async def call() -> int:
            async with httpx.AsyncClient(auth=auth) as client:  # and asynchronous
                return (await client.get(url)).status_code

        print("async:", asyncio.run(call()))
    except astra_auth.TokenError as exc:
        # No token: exc.category is the error category (docs/troubleshooting.md), exc.hints
        # what to do about it (the same as `astra-auth test-token` prints).
        print(f"error: {exc.category}: no token for {target}", file=sys.stderr)
        for hint in exc.hints[:1]:
            print(f"hint: {hint}", file=sys.stderr)
        return int(exc.exit_code)
    except astra_auth.AstraError as exc:  # an unknown target, an unusable config
        print(f"error: {exc.message}", file=sys.stderr)
        for hint in exc.hints[:1]:
            print(f"hint: {hint}", file=sys.stderr)
        return int(exc.exit_code)
    except httpx.HTTPError as exc:  # the API itself could not be reached
        print(f"error: {type(exc).__name__} calling {url}", file=sys.stderr)
        return 5
    return 0


if __name__ == "__main__":
    sys.exit(main())
