from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "机构与人员"

    def ready(self) -> None:
        # An area home's roster figures are cached for seconds (selectors.roster_overview): a write of what
        # they count drops them in this process at once.
        from django.db.models.signals import post_delete, post_save

        from .models import Organisation, RosterConfirmation
        from .selectors import roster_overview_forget

        for model in (Organisation, RosterConfirmation):
            post_save.connect(roster_overview_forget, sender=model, dispatch_uid=f"roster-overview-{model.__name__}")
            post_delete.connect(roster_overview_forget, sender=model, dispatch_uid=f"roster-overview-del-{model.__name__}")
