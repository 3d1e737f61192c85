"""Run one or more spiders now, each in its own process, recorded as CrawlRuns.

    python manage.py crawl netease --max-items 20      # a polite trial run
    python manage.py crawl all
    python manage.py crawl lyrics -s LYRICS_SONGS_PER_RUN=50
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from recommender.crawling import SPIDERS, CrawlNotStarted, run_spider
from recommender.models import CrawlRun


def _pair(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise ValueError(f"expected NAME=VALUE, got {text!r}")
    name, value = text.split("=", 1)
    return name.strip(), value


class Command(BaseCommand):
    help = "Crawl music sites into the library (each spider in its own process; one run per spider at a time)."

    def add_arguments(self, parser):
        parser.add_argument("spiders", nargs="+", metavar="SPIDER", choices=[*SPIDERS, "all"],
                            help=f"{', '.join(SPIDERS)} or all")
        parser.add_argument("--max-items", type=int, default=None,
                            help="at most this many songs per spider: a polite trial run")
        parser.add_argument("--ignore-backoff", action="store_true",
                            help="run even though the site blocked the spider's last run (its back-off time "
                                 "is in the admin); only once you know why it was blocked")
        parser.add_argument("--timeout", type=float, default=None,
                            help="stop a spider's process after this many seconds (default MIEN_CRAWL_TIMEOUT)")
        parser.add_argument("-s", "--set", dest="overrides", action="append", default=[], type=_pair,
                            metavar="NAME=VALUE", help="a Scrapy setting for this run (repeatable)")
        parser.add_argument("-a", "--arg", dest="spider_args", action="append", default=[], type=_pair,
                            metavar="NAME=VALUE", help="a spider argument, e.g. categories=快乐,伤感")

    def handle(self, *args, spiders, max_items, timeout, overrides, spider_args, ignore_backoff, **options):
        if max_items is not None and max_items < 1:
            raise CommandError("--max-items must be at least 1")
        names = list(SPIDERS) if "all" in spiders else list(dict.fromkeys(spiders))
        problems = []
        for name in names:
            self.stdout.write(f"{name}: crawling...")
            try:
                run = run_spider(name, max_items=max_items, timeout=timeout, overrides=dict(overrides),
                                 spider_args=dict(spider_args), output=self.stderr, ignore_backoff=ignore_backoff)
            except CrawlNotStarted as exc:
                self.stderr.write(self.style.WARNING(f"{name}: {exc}"))
                problems.append(name)
                continue
            except ImproperlyConfigured as exc:
                raise CommandError(f"{name}: {exc}") from exc
            took = str(run.duration).split(".")[0] if run.duration is not None else "?"
            summary = f"{name}: run #{run.pk} {run.status} in {took}: {run.message.replace(chr(10), '; ')}"
            if run.status == CrawlRun.Status.FINISHED:
                self.stdout.write(self.style.SUCCESS(summary))
            elif run.status == CrawlRun.Status.SKIPPED:
                self.stdout.write(self.style.WARNING(summary))
            else:
                self.stderr.write(self.style.ERROR(summary))
                problems.append(name)
        if problems:
            raise CommandError(f"not completed: {', '.join(problems)} (see the CrawlRun records in the admin)")
