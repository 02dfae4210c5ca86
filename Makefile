.PHONY: demo test lint fmt bench migrate
demo:
	python3 run.py demo
test:
	python3 run.py test
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && CPD_REGIME=cycle .venv/bin/mypy
fmt:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .
migrate:
	.venv/bin/python manage.py migrate
bench:
	.venv/bin/python bench/run.py
