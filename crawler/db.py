"""Run Django ORM work from Scrapy's asyncio event loop.

Django refuses synchronous ORM calls from a thread with a running event loop (Scrapy 2.13+ runs on
asyncio), so database work runs in a worker thread, which closes its connections afterwards.
"""

import asyncio
import functools

from django.db import connections


async def in_db_thread(function, *args, **kwargs):
    def call():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(call))
