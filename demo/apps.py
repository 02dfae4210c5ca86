from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo seeding (`manage.py seed_demo`): it needs every app, so it sits above them all."""

    name = "demo"
    verbose_name = "演示数据"
