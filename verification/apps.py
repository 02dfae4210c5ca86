from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "verification"
    verbose_name = "年度验证"

    def ready(self) -> None:
        # The hours bank counts carry-in as the engine does (last year's verified carry-out); hours sits
        # below verification in the import order, so the provider is handed down here.
        from hours import ledger

        from .engine import carry_in_from_results

        ledger.register_carry_in(carry_in_from_results)
